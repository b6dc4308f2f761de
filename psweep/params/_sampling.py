"""Seeded random and Latin-hypercube sampling of psets over named ranges."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from psweep.errors import ParamsError, ParamsTypeError
from psweep.params._grids import _check_num, _check_real

__all__ = ["sample_random", "sample_lhs"]


def _check_ranges(
    ranges: Any, log: Sequence[str] | str, func: str
) -> list[tuple[str, float, float, bool]]:
    """Validate `ranges` and `log`; return (name, lo, hi, is_log) per parameter."""
    if not isinstance(ranges, Mapping):
        raise ParamsTypeError(
            f"{func}: ranges is a {type(ranges).__name__} ({ranges!r:.80}), not a "
            f"dict. Pass name -> (lo, hi), e.g. ranges={{'a': (0.0, 1.0)}}."
        )
    if not ranges:
        raise ParamsError(
            f"{func}: ranges is empty, so there is nothing to sample. Pass "
            f"name -> (lo, hi), e.g. ranges={{'a': (0.0, 1.0)}}."
        )
    log_names = {log} if isinstance(log, str) else set(log)
    unknown = sorted(log_names - set(ranges), key=repr)
    if unknown:
        raise ParamsError(
            f"{func}: log names {unknown!r} are not keys of ranges "
            f"{list(ranges)!r}. Fix the spelling or add their ranges."
        )
    specs = []
    for name, bounds in ranges.items():
        where = f"{func}: ranges[{name!r}]"
        if not isinstance(name, str):
            raise ParamsTypeError(f"{where}: parameter names must be strings.")
        is_pair = isinstance(bounds, Sequence) and len(bounds) == 2
        if isinstance(bounds, str) or not is_pair:
            raise ParamsTypeError(
                f"{where} = {bounds!r} is not a (lo, hi) pair. "
                f"Pass e.g. ranges={{{name!r}: (0.0, 1.0)}}."
            )
        lo = _check_real(bounds[0], f"{where}[0] (lo)")
        hi = _check_real(bounds[1], f"{where}[1] (hi)")
        if lo >= hi:
            raise ParamsError(
                f"{where} = {bounds!r} has lo >= hi; values are drawn from [lo, "
                f"hi), so pass lo < hi, e.g. ({min(lo, hi)!r}, {max(lo, hi) + 1!r})."
            )
        if name in log_names and lo <= 0:
            raise ParamsError(
                f"{where} = {bounds!r} is in log, which needs lo > 0. Raise "
                f"the lower bound (e.g. 1e-6) or drop {name!r} from log."
            )
        specs.append((name, lo, hi, name in log_names))
    return specs


def _make_rng(seed: Any, func: str) -> np.random.Generator:
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise ParamsTypeError(
            f"{func}: seed={seed!r} cannot seed numpy's generator ({exc}). "
            f"Pass a non-negative int, a np.random.Generator, or None."
        ) from exc


def _scale(
    unit: np.ndarray, specs: list[tuple[str, float, float, bool]]
) -> list[dict[str, float]]:
    """Map column j of `unit` (values in [0, 1)) onto the j-th range."""
    columns = {}
    for jj, (name, lo, hi, is_log) in enumerate(specs):
        if is_log:
            col = np.exp(math.log(lo) + unit[:, jj] * (math.log(hi) - math.log(lo)))
        else:
            col = lo + unit[:, jj] * (hi - lo)
        # Rounding in the map can land on hi or just below lo; keep [lo, hi).
        columns[name] = np.clip(col, lo, np.nextafter(hi, lo))
    return [
        {name: float(col[ii]) for name, col in columns.items()}
        for ii in range(unit.shape[0])
    ]


def sample_random(
    ranges: Mapping[str, tuple[float, float]],
    n: int,
    seed: int | np.random.Generator | None = None,
    log: Sequence[str] | str = (),
) -> list[dict[str, float]]:
    """Draw `n` psets with each parameter uniform in its range.

    Parameters
    ----------
    ranges
        ``{name: (lo, hi)}``; each value is drawn from ``[lo, hi)``.
    n
        Number of psets, >= 1.
    seed
        Seed of :func:`numpy.random.default_rng`; the same seed (and the same
        `ranges`, in the same order) gives the same psets. None draws fresh.
    log
        Names drawn log-uniformly (uniform in ``log(value)``), for scales
        spanning decades; their ``lo`` must be > 0.

    Returns
    -------
    list of dict
        `n` psets of Python floats, keys in the order of `ranges`.

    Raises
    ------
    ParamsError
        If `ranges` is empty, a range is not a pair of finite numbers with
        ``lo < hi``, `n` is not a whole number >= 1, `seed` is unusable, or
        a `log` name is unknown or has ``lo <= 0`` (:class:`ParamsTypeError`,
        a subclass, for values of the wrong type).

    Examples
    --------
    >>> from psweep import sample_random
    >>> params = sample_random({"a": (0, 1), "b": (1e-3, 1e3)}, 4, seed=1, log=["b"])
    >>> len(params), sorted(params[0])
    (4, ['a', 'b'])
    >>> params == sample_random({"a": (0, 1), "b": (1e-3, 1e3)}, 4, seed=1, log=["b"])
    True
    """
    specs = _check_ranges(ranges, log, "sample_random")
    n = _check_num(n, "sample_random", "n")
    rng = _make_rng(seed, "sample_random")
    return _scale(rng.random((n, len(specs))), specs)


def sample_lhs(
    ranges: Mapping[str, tuple[float, float]],
    n: int,
    seed: int | np.random.Generator | None = None,
    log: Sequence[str] | str = (),
) -> list[dict[str, float]]:
    """Draw `n` psets by Latin hypercube sampling.

    Each parameter's range is cut into `n` equal strata and every stratum
    holds exactly one of the `n` values, placed uniformly inside it; the
    strata are shuffled independently per parameter. This covers each range
    more evenly than :func:`sample_random` for the same `n`.

    Parameters
    ----------
    ranges
        ``{name: (lo, hi)}``; each value lies in ``[lo, hi)``.
    n
        Number of psets (and of strata), >= 1.
    seed
        Seed of :func:`numpy.random.default_rng`; same seed, same psets.
    log
        Names whose strata are equal in ``log(value)`` rather than in value;
        their ``lo`` must be > 0.

    Returns
    -------
    list of dict
        `n` psets of Python floats, keys in the order of `ranges`.

    Raises
    ------
    ParamsError
        As :func:`sample_random`.

    Examples
    --------
    >>> from psweep import sample_lhs
    >>> params = sample_lhs({"a": (0, 10)}, 5, seed=0)
    >>> sorted(int(p["a"] // 2) for p in params)  # one value per stratum of width 2
    [0, 1, 2, 3, 4]
    """
    specs = _check_ranges(ranges, log, "sample_lhs")
    n = _check_num(n, "sample_lhs", "n")
    rng = _make_rng(seed, "sample_lhs")
    unit = np.empty((n, len(specs)))
    for jj in range(len(specs)):
        # Stratum k of n is [k/n, (k+1)/n); each row gets a distinct one.
        unit[:, jj] = (rng.permutation(n) + rng.random(n)) / n
    return _scale(unit, specs)
