"""Sampling patterns beyond the full grid: star scans, spaced values, random draws.

:func:`stargrid` scans one parameter (or a group) at a time around a center
point; :func:`intspace` and :func:`logspace` make 1d value lists for
:func:`~psweep.plist`; :func:`sample_random` and :func:`sample_lhs` draw
seeded psets from named ranges. Everything returns plain Python scalars, so
psets print and hash like hand-written ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np

from psweep.errors import ParamsError, ParamsTypeError
from psweep.params import filter_params_unique

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
        Column of the labels. It must start with ``_`` so that labels do not
        enter the pset hash: the center point is the same pset in every scan.
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
        `vary_label_col` lacks the leading ``_`` or is already a key.

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
        if not isinstance(vary_label_col, str) or not vary_label_col.startswith("_"):
            raise ParamsError(
                f"stargrid: vary_label_col={vary_label_col!r} does not start with '_', "
                f"so labels would enter the pset hash and the shared center point "
                f"would count as a different pset per scan. Use e.g. '_vary'."
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
    return filter_params_unique(params) if skip_dups else params


def intspace(
    start: float, stop: float, num: int = 50, endpoint: bool = True
) -> list[int]:
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

    Returns
    -------
    list of int
        Unique Python ints, ascending.

    Raises
    ------
    ParamsError
        If a bound is not a finite number or `num` not a whole number >= 1.

    Examples
    --------
    >>> from psweep import intspace
    >>> intspace(1, 100, 5)
    [1, 26, 50, 75, 100]
    >>> intspace(0, 3, 10)
    [0, 1, 2, 3]
    """
    lo = _check_real(start, "intspace: start")
    hi = _check_real(stop, "intspace: stop")
    num = _check_num(num, "intspace")
    values = np.round(np.linspace(lo, hi, num, endpoint=bool(endpoint)))
    return [int(v) for v in np.unique(values)]


def logspace(
    start: float, stop: float, num: int = 50, offset: float = 0.0, endpoint: bool = True
) -> list[float]:
    """Log-spaced values from `start` to `stop`, with tunable log strength.

    `start` and `stop` are the values themselves, not exponents as in
    :func:`numpy.logspace`. The points are geometrically spaced between
    ``start + offset`` and ``stop + offset``, then shifted back by
    `offset`. With ``offset=0`` that is a plain log scale (consecutive
    ratios are equal, points denser towards the smaller bound); a larger
    `offset` spreads them more evenly, tending to ``np.linspace``. There is
    no `base` argument: the base of the log does not change these points.

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
    endpoint
        Whether `stop` is the last value.

    Returns
    -------
    list of float
        `num` Python floats, monotonic from `start` towards `stop`.

    Raises
    ------
    ParamsError
        If a bound or `offset` is not a finite number, `num` is not a whole
        number >= 1, or ``start + offset`` or ``stop + offset`` is <= 0.

    Examples
    --------
    >>> from psweep import logspace
    >>> logspace(1, 1000, 4)
    [1.0, 10.0, 100.0, 1000.0]
    >>> [round(x, 2) for x in logspace(0, 10, 4, offset=1)]
    [0.0, 1.22, 3.95, 10.0]
    """
    lo = _check_real(start, "logspace: start")
    hi = _check_real(stop, "logspace: stop")
    shift = _check_real(offset, "logspace: offset")
    num = _check_num(num, "logspace")
    if lo + shift <= 0 or hi + shift <= 0:
        raise ParamsError(
            f"logspace: start + offset = {lo + shift!r} and stop + offset = "
            f"{hi + shift!r} must both be > 0 for a log scale. Pass an offset "
            f"greater than {-min(lo, hi)!r}, e.g. offset={1 - min(lo, hi)!r}."
        )
    # Base 10 only so that decades such as logspace(1, 1000, 4) come out exact.
    exponents = np.linspace(
        math.log10(lo + shift), math.log10(hi + shift), num, endpoint=bool(endpoint)
    )
    values = [float(v) for v in 10.0**exponents - shift]
    # 10**log10(x) - offset is off by rounding; users compare endpoints with ==.
    values[0] = lo
    if endpoint and num > 1:
        values[-1] = hi
    return values
