"""Dropping repeated psets: by their hash, and by hashes already done.

:mod:`psweep.params._hashing` says which psets are the same; the psets
dropped here that differ in keys the hash leaves out (``n_``, ``_seed``,
:mod:`psweep.params._leftout`) are counted and warned about.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from psweep.errors import caller_stacklevel
from psweep.params._hashing import pset_hash
from psweep.params._leftout import LeftOut, collisions, describe, left_out_digest, left_out_keys

__all__ = [
    "filter_params_unique",
    "filter_params_dup_hash",
    "unique_by_hash",
]


def filter_params_unique(params: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Drop psets whose :func:`pset_hash` was seen before, keeping order.

    Parameters
    ----------
    params
        List of psets.

    Returns
    -------
    list of dict
        The first pset of each hash.

    Warns
    -----
    UserWarning
        Once, if it drops psets that differ from the kept one of their hash
        in keys the hash leaves out (``n_``, ``_seed``), with their count.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.filter_params_unique([{"a": 1}, {"a": 1.0}, {"a": 2}])
    [{'a': 1}, {'a': 2}]
    """
    unique, differ, keys = unique_by_hash(params)
    if differ:
        warnings.warn(
            f"psweep: filter_params_unique dropped {differ} pset{'s' if differ > 1 else ''} "
            f"as repeats of an earlier one with the same _pset_hash, from which "
            f"{'they differ' if differ > 1 else 'it differs'} in keys the hash leaves out: "
            f"{describe(keys)}",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return unique


def unique_by_hash(params: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], int, list[str]]:
    """The first pset of each hash, and how many dropped ones differ from it
    in left-out keys (and which keys): :func:`filter_params_unique` without
    its warning, for helpers whose labels are left out by design.

    Parameters
    ----------
    params
        List of psets.

    Returns
    -------
    (list of dict, int, list of str)
    """
    first: dict[str, Mapping[str, Any]] = {}
    unique = []
    differ, keys = 0, set()
    for pset in params:
        phash = pset_hash(pset)
        kept = first.get(phash)
        if kept is None:
            first[phash] = pset
            unique.append(dict(pset))
            continue
        both = tuple(dict.fromkeys(left_out_keys(tuple(kept)) + left_out_keys(tuple(pset))))
        if both and left_out_digest(kept, both) != left_out_digest(pset, both):
            differ += 1
            keys.update(both)
    return unique, differ, sorted(keys)


def filter_params_dup_hash(
    params: Iterable[Mapping[str, Any]], hashes: Iterable[str]
) -> list[dict[str, Any]]:
    """Drop psets whose hash is in `hashes`.

    Parameters
    ----------
    params
        List of psets.
    hashes
        Hashes to skip, e.g. ``df._pset_hash``.

    Returns
    -------
    list of dict
        The psets whose hash is not in `hashes`.

    Warns
    -----
    UserWarning
        Once, if dropped psets share their hash with other dropped ones
        that differ from them only in keys the hash leaves out (``n_``,
        ``_seed``): at most one of them can be the pset `hashes` stands for.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.filter_params_dup_hash([{"a": 1}, {"a": 2}], [ps.pset_hash({"a": 1})])
    [{'a': 2}]
    """
    skip = set(hashes)
    kept = []
    dropped_hashes: list[str] = []
    left_out: LeftOut = {}
    for pset in params:
        phash = pset_hash(pset)
        if phash not in skip:
            kept.append(dict(pset))
            continue
        left = left_out_keys(tuple(pset))
        if left:
            left_out[len(dropped_hashes)] = (left, left_out_digest(pset, left))
        dropped_hashes.append(phash)
    count, keys = collisions(dropped_hashes, left_out)
    if count:
        warnings.warn(
            f"psweep: filter_params_dup_hash dropped {count} psets that share their "
            f"_pset_hash with other dropped ones and differ from them only in keys the "
            f"hash leaves out: {describe(keys)}",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return kept
