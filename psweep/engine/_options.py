"""Checks of ``ps.run``'s numeric options, before anything is written.

``timeout``, ``chunksize`` and ``lock_timeout`` reach ``ps.run`` from its
own keywords, from ``@ps.sweep(...)`` and from ``.over(...)`` overrides; a
value that would fail (or loop) later is refused here with a
:class:`~psweep.errors.ParamsTypeError` (wrong type) or a
:class:`~psweep.errors.ParamsError` (wrong value) naming the value and the fix.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from psweep.errors import ParamsError, ParamsTypeError
from psweep.execute import NO_LIMIT_ABOVE

__all__ = ["check_chunksize", "check_lock_timeout", "check_timeout"]


def _is_real(value: Any) -> bool:
    """A real number, not a bool (True is an int to Python, not a count)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_timeout(timeout: Any) -> float | None:
    """The seconds a pset may run, from ``timeout=``; None means no limit.

    Parameters
    ----------
    timeout
        None, or seconds > 0; ``float("inf")`` (and anything above
        :data:`~psweep.execute._timeouts.NO_LIMIT_ABOVE`) means no limit.

    Returns
    -------
    float or None

    Raises
    ------
    ParamsTypeError
        Not a number (a str, a bool).
    ParamsError
        NaN, 0 or negative.

    Examples
    --------
    >>> from psweep.engine._options import check_timeout
    >>> check_timeout(2), check_timeout(float("inf")), check_timeout(None)
    (2.0, None, None)
    >>> check_timeout(0)
    Traceback (most recent call last):
    ...
    psweep.errors.ParamsError: timeout=0: ...
    """
    if timeout is None:
        return None
    fix = 'pass the seconds a pset may run (a number > 0), or None or float("inf") for no limit.'
    if not _is_real(timeout):
        raise ParamsTypeError(f"timeout={timeout!r} is a {type(timeout).__name__}; {fix}")
    seconds = float(timeout)
    if math.isnan(seconds) or seconds <= 0:
        raise ParamsError(f"timeout={timeout!r}: {fix}")
    return None if seconds > NO_LIMIT_ABOVE else seconds


def check_chunksize(chunksize: Any) -> int | None:
    """Psets per chunk sent to a worker, from ``chunksize=``.

    Parameters
    ----------
    chunksize
        None (adapts to the psets' runtime) or a whole number >= 1.

    Returns
    -------
    int or None

    Raises
    ------
    ParamsTypeError
        Not a whole number (a float such as 2.5 or 2.0, a str, a bool).
    ParamsError
        0 or negative.

    Examples
    --------
    >>> from psweep.engine._options import check_chunksize
    >>> check_chunksize(5), check_chunksize(None)
    (5, None)
    >>> check_chunksize("5")
    Traceback (most recent call last):
    ...
    psweep.errors.ParamsTypeError: chunksize='5' is a str; ...
    """
    if chunksize is None:
        return None
    fix = "pass a whole number >= 1 of psets per chunk (e.g. chunksize=5), or None to adapt it."
    if not isinstance(chunksize, numbers.Integral) or not _is_real(chunksize):
        raise ParamsTypeError(f"chunksize={chunksize!r} is a {type(chunksize).__name__}; {fix}")
    if chunksize < 1:
        raise ParamsError(f"chunksize={chunksize!r}: {fix}")
    return int(chunksize)


def check_lock_timeout(lock_timeout: Any) -> float:
    """Seconds to wait for the database lock, from ``lock_timeout=``.

    Parameters
    ----------
    lock_timeout
        Seconds >= 0 (0: try once); ``float("inf")`` waits for ever.

    Returns
    -------
    float

    Raises
    ------
    ParamsTypeError
        Not a number (None, a str, a bool).
    ParamsError
        NaN or negative.

    Examples
    --------
    >>> from psweep.engine._options import check_lock_timeout
    >>> check_lock_timeout(5), check_lock_timeout(float("inf"))
    (5.0, inf)
    >>> check_lock_timeout(None)
    Traceback (most recent call last):
    ...
    psweep.errors.ParamsTypeError: lock_timeout=None is a NoneType; ...
    """
    fix = 'pass the seconds to wait for the database lock (a number >= 0), or float("inf") to wait for ever.'
    if not _is_real(lock_timeout):
        raise ParamsTypeError(f"lock_timeout={lock_timeout!r} is a {type(lock_timeout).__name__}; {fix}")
    seconds = float(lock_timeout)
    if math.isnan(seconds) or seconds < 0:
        raise ParamsError(f"lock_timeout={lock_timeout!r}: {fix}")
    return seconds
