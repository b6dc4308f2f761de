"""Checks of ``ps.run``'s options, each on its own, before anything is written.

``timeout``, ``chunksize`` and ``lock_timeout`` reach ``ps.run`` from its
own keywords, from ``@ps.sweep(...)`` and from ``.over(...)`` overrides; a
value that would fail (or loop) later is refused here with a
:class:`~psweep.errors.ParamsTypeError` (wrong type) or a
:class:`~psweep.errors.ParamsError` (wrong value) naming the value and the fix.
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
import sys
from typing import Any

import pandas as pd

from psweep._schema import BOOKKEEPING_DIR
from psweep.errors import (
    CalcDirError,
    FuncTypeError,
    MissingDependencyError,
    ParamsError,
    ParamsTypeError,
    PsweepError,
)
from psweep.execute import NO_LIMIT_ABOVE
from psweep.provenance import kernel_shell

__all__ = [
    "check_arguments",
    "check_chunksize",
    "check_lock_timeout",
    "check_timeout",
    "progress_class",
]

_ON_ERROR = ("record", "raise")


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
    >>> from psweep.engine._checks import check_timeout
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
    >>> from psweep.engine._checks import check_chunksize
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
    >>> from psweep.engine._checks import check_lock_timeout
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


def check_arguments(
    func: Any,
    calc_dir: Any,
    poolsize: Any,
    executor: Any,
    on_error: str,
    df: Any,
    database_basename: Any,
) -> None:
    if not callable(func):
        raise FuncTypeError(
            f"func is a {type(func).__name__} ({func!r:.100}), not callable. "
            f"Pass the function itself, e.g. ps.run(func, params), not func(pset)."
        )
    _check_signature(func)
    if not isinstance(calc_dir, (str, os.PathLike)):
        raise CalcDirError(
            f"calc_dir={calc_dir!r} is a {type(calc_dir).__name__}; pass a "
            f"folder path as str or pathlib.Path."
        )
    if os.path.exists(calc_dir) and not os.path.isdir(calc_dir):
        raise CalcDirError(
            f"calc_dir={os.fspath(calc_dir)!r} is an existing file, not a "
            f"folder. Pass another calc_dir, or move the file away."
        )
    if poolsize is not None and (
        isinstance(poolsize, bool) or not isinstance(poolsize, int) or poolsize < 1
    ):
        raise ParamsError(
            f"poolsize={poolsize!r}: pass a whole number >= 1 of processes, "
            f"or None to run serially."
        )
    if poolsize is not None and executor is not None:
        raise PsweepError(
            "pass either poolsize= (local processes) or executor=/dask_client=, not both."
        )
    if on_error not in _ON_ERROR:
        raise ParamsError(f"on_error={on_error!r}: use one of {_ON_ERROR}.")
    _check_database_basename(database_basename)
    if df is not None and not isinstance(df, pd.DataFrame):
        raise ParamsTypeError(
            f"df is a {type(df).__name__}; pass a pandas DataFrame (a "
            f"database from ps.df_read) or None."
        )


def _check_database_basename(name: Any) -> None:
    """Raise ParamsError unless `name` is a plain file name for the database."""
    if name is None:  # the default: results.pk, or 0.16's database.pk
        return
    fix = 'Pass a plain file name such as "results.pk"; put folders into calc_dir.'
    if not isinstance(name, str):
        raise ParamsError(
            f"database_basename={name!r} is a {type(name).__name__}, not a file name. {fix}"
        )
    separators = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    if name in ("", ".", "..") or any(sep in name for sep in separators):
        raise ParamsError(
            f"database_basename={name!r} is not a file name inside calc_dir "
            f"(empty, '.', '..', or with a path separator). {fix}"
        )
    if name == BOOKKEEPING_DIR:
        raise ParamsError(
            f"database_basename={name!r} is the name of psweep's bookkeeping "
            f"folder in calc_dir. {fix}"
        )


def _check_signature(func: Any) -> None:
    """Raise FuncTypeError if `func` cannot be called as ``func(pset)``."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return  # no signature to read (some builtins): let the call decide
    try:
        signature.bind({})
    except TypeError as exc:
        name = getattr(func, "__name__", type(func).__name__)
        raise FuncTypeError(
            f"func {name!r} has the signature {signature}, so it cannot be called "
            f"with one pset as psweep does ({exc}). Write it as 'def {name}(pset): ...' "
            f"and read values as pset['a'], or adapt it, e.g. "
            f"ps.run(lambda pset: {name}(pset['a'], pset['b']), params)."
        ) from exc


def progress_class(progress: bool | None) -> Any:
    """The tqdm class to use, or None for no progress bar."""
    if progress is False or (progress is None and not sys.stderr.isatty() and kernel_shell() is None):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:
        if progress:
            raise MissingDependencyError(
                "progress=True needs the package 'tqdm', which is not installed. "
                "Install it with: pip install tqdm (or the progress extra, "
                "pip install 'psweep[progress]'), or pass progress=False."
            ) from exc
        return None
    return tqdm
