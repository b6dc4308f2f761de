"""Sampling patterns beyond the full grid: star scans, spaced values, random draws.

:func:`stargrid` scans one parameter (or a group) at a time around a center
point; :func:`intspace` and :func:`logspace` make 1d value lists for
:func:`~psweep.plist`, as numpy arrays as in psweep 0.16 (so
``intspace(0, 4, 3) * 2`` is ``[0, 4, 8]``; their numpy scalars hash like
Python numbers); :func:`sample_random` and :func:`sample_lhs` draw seeded
psets from named ranges.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np

from psweep.errors import ParamsError, ParamsTypeError
from psweep.params._filters import unique_by_hash

__all__ = ["stargrid", "intspace", "logspace"]


def _check_num(num: Any, func: str, name: str = "num") -> int:
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)):
        raise ParamsTypeError(
            f"{func}: {name}={num!r} is a {type(num).__name__}; "
            f"pass a whole number >= 1."
        )
    if num < 1:
        raise ParamsError(
            f"{func}: {name}={num!r} asks for no values; pass {name} >= 1."
        )
    return int(num)


def _check_real(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ParamsTypeError(
            f"{where} is {value!r} ({type(value).__name__}); it must be a "
            f"real number such as 0.5."
        )
    if not math.isfinite(value):
        raise ParamsError(f"{where} is {value!r}; it must be finite, such as 0.5.")
    return float(value)


def stargrid(
    const: Mapping[str, Any],
    vary: Sequence[Iterable[Mapping[str, Any]]],
    vary_labels: Sequence[Any] | None = None,
    vary_label_col: str = "_vary",
    skip_dups: bool = True,
) -> list[dict[str, Any]]:
    """Scan parameters one at a time around a center point (a "star").

    For each plist in `vary`, every one of its psets is laid over a copy of
    `const`. Unlike :func:`~psweep.pgrid`, scans are not combined with each
    other, so ``k`` scans of ``m`` values give ``k * m`` psets, not ``m**k``.

    Parameters
    ----------
    const
        The center point: values of all parameters that a scan does not set.
    vary
        A list of plists, one per scan, e.g. ``[ps.plist("a", [1, 2])]``. A
        plist with several keys per pset (``ps.itr2params(zip(a, c))``)
        varies those parameters together. A scan may set a parameter that is
        absent from `const`; the other psets then lack that key (NaN in the
        database).
    vary_labels
        One label per scan, stored under `vary_label_col` in each of its
        psets, to select a scan later (``df[df._vary == "a"]``).
    vary_label_col
        Column of the labels. With a name starting with ``_`` (the default)
        labels are bookkeeping and do not enter the pset hash, so the center
        point is one pset shared by the scans. With another name, such as
        ``"study"``, the label is a parameter: each scan keeps its own
        center point (the psets differ by label).
    skip_dups
        Keep only the first pset of each :func:`~psweep.pset_hash`. A scan
        through the center value repeats the center, so with labels the
        center carries the label of the first scan that reaches it.

    Returns
    -------
    list of dict
        Keys ordered as in `const`, then new keys of the scan, then the label.
        The center appears only if some scan passes through it.

    Raises
    ------
    ParamsTypeError
        If `const` is not a dict or `vary` is not a list of lists of dicts.
    ParamsError
        If `vary_labels` does not match `vary` in length, or
        `vary_label_col` is already a key.

    Examples
    --------
    >>> import psweep as ps
    >>> from psweep import stargrid
    >>> const = {"a": 1, "b": 10}
    >>> stargrid(const, [ps.plist("a", [1, 2]), ps.plist("b", [10, 20])])
    [{'a': 1, 'b': 10}, {'a': 2, 'b': 10}, {'a': 1, 'b': 20}]
    >>> stargrid(const, [ps.plist("a", [1, 2]), ps.plist("b", [10, 20])],
    ...          vary_labels=["a", "b"])
    [{'a': 1, 'b': 10, '_vary': 'a'}, {'a': 2, 'b': 10, '_vary': 'a'},
     {'a': 1, 'b': 20, '_vary': 'b'}]
    >>> stargrid(const, [ps.plist("a", [1, 2]), ps.plist("b", [10, 20])],
    ...          vary_labels=["a", "b"], vary_label_col="study")
    [{'a': 1, 'b': 10, 'study': 'a'}, {'a': 2, 'b': 10, 'study': 'a'},
     {'a': 1, 'b': 10, 'study': 'b'}, {'a': 1, 'b': 20, 'study': 'b'}]
    """
    if not isinstance(const, Mapping):
        raise ParamsTypeError(
            f"stargrid: const is a {type(const).__name__} ({const!r:.80}), not a dict. "
            f"Pass the center point as a dict, e.g. const={{'a': 1, 'b': 2}}."
        )
    if isinstance(vary, (str, Mapping)) or not isinstance(vary, Iterable):
        raise ParamsTypeError(
            f"stargrid: vary is a {type(vary).__name__} ({vary!r:.80}); pass a list "
            f"of plists, e.g. vary=[ps.plist('a', [1, 2]), ps.plist('b', [3, 4])]."
        )
    scans = list(vary)
    labels = None
    if vary_labels is not None:
        # A bare string is one label, not one label per character.
        if isinstance(vary_labels, str) or not isinstance(vary_labels, Iterable):
            labels = [vary_labels]
        else:
            labels = list(vary_labels)
        if len(labels) != len(scans):
            raise ParamsError(
                f"stargrid: vary_labels={vary_labels!r} does not give one label for "
                f"each of the {len(scans)} scans in vary. Pass a list with one "
                f"label per plist, e.g. vary_labels=['a', 'b'], or leave it out."
            )
        if not isinstance(vary_label_col, str) or not vary_label_col:
            raise ParamsTypeError(
                f"stargrid: vary_label_col={vary_label_col!r} is not a column name; "
                f"pass a str such as '_vary' (the default) or 'study'."
            )
    params = []
    for ii, scan in enumerate(scans):
        if isinstance(scan, (str, Mapping)) or not isinstance(scan, Iterable):
            raise ParamsTypeError(
                f"stargrid: vary[{ii}] is a {type(scan).__name__} ({scan!r:.80}), not "
                f"a plist. vary is a list of plists: wrap a single one as "
                f"vary=[ps.plist('a', [1, 2])]."
            )
        for jj, entry in enumerate(scan):
            if not isinstance(entry, Mapping):
                raise ParamsTypeError(
                    f"stargrid: vary[{ii}][{jj}] is a {type(entry).__name__} "
                    f"({entry!r:.80}), not a dict. Build each scan with ps.plist, or "
                    f"ps.itr2params(zip(a, b)) to vary parameters together."
                )
            pset = {**const, **entry}
            if labels is not None:
                if vary_label_col in pset:
                    raise ParamsError(
                        f"stargrid: vary[{ii}][{jj}] already has the label column "
                        f"{vary_label_col!r} (via const or the scan). Pick another "
                        f"vary_label_col, e.g. '_scan'."
                    )
                pset[vary_label_col] = labels[ii]
            params.append(pset)
    # The labels are bookkeeping by design: the center keeps its first one, silently.
    return unique_by_hash(params)[0] if skip_dups else params


def intspace(
    start: float, stop: float, num: int = 50, endpoint: bool = True, dtype: Any = np.int64
) -> np.ndarray:
    """Roughly evenly spaced integers, for parameters such as sizes or counts.

    The values of ``np.linspace(start, stop, num, endpoint)``, rounded to
    the nearest integer (halves to even, as :func:`numpy.round`), without
    duplicates, in ascending order. Fewer than `num` values come back when
    the range holds fewer integers than `num`.

    Parameters
    ----------
    start, stop
        Bounds, as in :func:`numpy.linspace`; ``stop < start`` is allowed.
    num
        How many values to space before rounding, >= 1.
    endpoint
        Whether `stop` is the last value spaced.
    dtype
        Integer dtype of the result.

    Returns
    -------
    numpy.ndarray
        Unique integers, ascending (a numpy array, as in psweep 0.16).

    Raises
    ------
    ParamsError
        If a bound is not a finite number or `num` not a whole number >= 1.

    Examples
    --------
    >>> import numpy as np
    >>> from psweep import intspace
    >>> intspace(1, 100, 5)
    array([  1,  26,  50,  75, 100])
    >>> intspace(0, 3, 10, dtype=np.int32).tolist()
    [0, 1, 2, 3]
    >>> intspace(0, 4, 3) * 2
    array([0, 4, 8])
    """
    lo = _check_real(start, "intspace: start")
    hi = _check_real(stop, "intspace: stop")
    num = _check_num(num, "intspace")
    values = np.round(np.linspace(lo, hi, num, endpoint=bool(endpoint)))
    return np.unique(values).astype(dtype)


def logspace(
    start: float,
    stop: float,
    num: int = 50,
    offset: float = 0.0,
    log_func: Callable[[Any], Any] = np.log10,
    *,
    base: float = 10.0,
    endpoint: bool = True,
) -> np.ndarray:
    """Log-spaced values from `start` to `stop`, with tunable log strength.

    `start` and `stop` are the values themselves, not exponents as in
    :func:`numpy.logspace`. The points are geometrically spaced between
    ``start + offset`` and ``stop + offset``, then shifted back by
    `offset`. With ``offset=0`` that is a plain log scale (consecutive
    ratios are equal, points denser towards the smaller bound); a larger
    `offset` spreads them more evenly, tending to ``np.linspace``.

    Parameters
    ----------
    start, stop
        First and last value (`stop` only if `endpoint`); returned exactly.
    num
        Number of values, >= 1.
    offset
        Shift that tunes the log scale; ``start + offset`` and
        ``stop + offset`` must be > 0, so a negative offset (down to just
        above ``-min(start, stop)``) makes the scale even stronger.
    log_func, base
        The logarithm and its base, as in psweep 0.16 (``np.log`` with
        ``base=np.e``, say). They must match; the points do not depend on
        the base.
    endpoint
        Whether `stop` is the last value.

    Returns
    -------
    numpy.ndarray
        `num` floats, monotonic from `start` towards `stop` (a numpy array,
        as in psweep 0.16).

    Raises
    ------
    ParamsError
        If a bound or `offset` is not a finite number, `num` is not a whole
        number >= 1, ``start + offset`` or ``stop + offset`` is <= 0, or
        ``log_func(base)`` is not 1.

    Examples
    --------
    >>> import numpy as np
    >>> from psweep import logspace
    >>> logspace(1, 1000, 4)
    array([   1.,   10.,  100., 1000.])
    >>> logspace(1, 1000, 4, base=np.e, log_func=np.log).round(9).tolist()
    [1.0, 10.0, 100.0, 1000.0]
    >>> logspace(0, 10, 4, offset=1).round(2).tolist()
    [0.0, 1.22, 3.95, 10.0]
    """
    lo = _check_real(start, "logspace: start")
    hi = _check_real(stop, "logspace: stop")
    shift = _check_real(offset, "logspace: offset")
    num = _check_num(num, "logspace")
    base = _check_real(base, "logspace: base")
    if not callable(log_func) or not np.isclose(log_func(base), 1.0):
        raise ParamsError(
            f"logspace: log_func={log_func!r} does not match base={base!r} "
            f"(log_func(base) must be 1). Pass matching ones, e.g. "
            f"base=np.e, log_func=np.log, or leave both out (base 10)."
        )
    if lo + shift <= 0 or hi + shift <= 0:
        raise ParamsError(
            f"logspace: start + offset = {lo + shift!r} and stop + offset = "
            f"{hi + shift!r} must both be > 0 for a log scale. Pass an offset "
            f"greater than {-min(lo, hi)!r}, e.g. offset={1 - min(lo, hi)!r}."
        )
    exponents = np.linspace(
        log_func(lo + shift), log_func(hi + shift), num, endpoint=bool(endpoint)
    )
    values = np.asarray(base**exponents - shift, dtype=float)
    # base**log(x) - offset is off by rounding; users compare endpoints with ==.
    values[0] = lo
    if endpoint and num > 1:
        values[-1] = hi
    return values
