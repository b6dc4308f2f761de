"""Keys the pset hash leaves out: find psets told apart only by them, and say so.

``_pset_hash`` leaves out keys ending with ``_`` (results, by convention)
and keys starting with ``_`` (bookkeeping), as psweep 0.16 did: a
documented way to keep a value (a label, a seed to reuse) out of a pset's
identity. But a parameter named so by mistake (``n_``) makes different
psets one: ``skip_dups`` then skips psets that never ran. This module finds
such psets, at O(psets that have such keys) and nothing for the others, so
that psweep can say so wherever it matches psets by hash.

Examples
--------
>>> from psweep.params._leftout import left_out_keys
>>> left_out_keys(("a", "n_", "_seed", "_pset_id"))
('n_', '_seed')
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from psweep.errors import PsweepHashError, caller_stacklevel
from psweep.params._hashing import hash_with_layout, key_layout
from psweep._schema import ENGINE_KEYS

__all__ = [
    "LeftOut",
    "left_out_keys",
    "left_out_digest",
    "collisions",
    "differ_from_rows",
    "warn_collisions",
    "describe",
]

# Columns psweep itself adds to a row: never a user's key, so never reported
# (psets built from database rows carry them).
_OWN_COLUMNS = ENGINE_KEYS | {"_logs"}

_KEYS: dict[tuple[Any, ...], tuple[str, ...]] = {}
_MAX_KEY_SETS = 10_000

# Left-out keys per pset that has any, by its position: {index: (keys, digest)}.
LeftOut = dict[int, tuple[tuple[str, ...], str]]


def left_out_keys(keys: tuple[Any, ...]) -> tuple[str, ...]:
    """The keys of a pset that its hash leaves out, psweep's own columns aside.

    Cached per key set, as :func:`psweep.params._hashing.key_layout` is.

    Parameters
    ----------
    keys
        A pset's keys, in its order.

    Returns
    -------
    tuple of str
        Keys starting or ending with ``_``, in the pset's order.
    """
    found = _KEYS.get(keys)
    if found is None:
        found = tuple(
            key for key in keys
            if key not in _OWN_COLUMNS and (str(key).startswith("_") or str(key).endswith("_"))
        )
        if len(_KEYS) < _MAX_KEY_SETS:
            _KEYS[keys] = found
    return found


def left_out_digest(values: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    """A digest of the values of `keys` in `values`, equal where
    :func:`~psweep.pset_hash` counts values equal (``1 == 1.0``, a missing
    key == None == NaN).

    Parameters
    ----------
    values
        A pset, or a database row as a dict.
    keys
        The left-out keys to compare.

    Returns
    -------
    str
    """
    sub = {key: values.get(key) for key in keys}
    try:
        return hash_with_layout(sub, key_layout(keys, False, False))
    except PsweepHashError:
        # A value with no stable hash (a lambda under "_func"): by its text,
        # which tells different functions apart within one process.
        return "repr:" + repr(sorted(sub.items(), key=lambda item: str(item[0])))


def collisions(hashes: Sequence[str], left_out: LeftOut) -> tuple[int, list[str]]:
    """Psets that share their hash with a pset differing only in left-out keys.

    Parameters
    ----------
    hashes
        ``_pset_hash`` of each pset, in order.
    left_out
        ``{index: (keys, digest)}`` of the psets that have left-out keys.

    Returns
    -------
    (int, list of str)
        How many psets are in such groups, and the left-out keys involved.
    """
    if not left_out:
        return 0, []
    wanted = {hashes[index] for index in left_out}
    digests: dict[str, set[str]] = {}
    members: dict[str, list[int]] = {}
    for index, pset_hash in enumerate(hashes):
        if pset_hash in wanted:
            entry = left_out.get(index)
            digests.setdefault(pset_hash, set()).add("" if entry is None else entry[1])
            members.setdefault(pset_hash, []).append(index)
    count, keys = 0, set()
    for pset_hash, found in digests.items():
        if len(found) > 1:
            count += len(members[pset_hash])
            keys.update(k for index in members[pset_hash] if index in left_out for k in left_out[index][0])
    return count, sorted(keys)


def differ_from_rows(
    candidates: Iterable[int], hashes: Sequence[str], left_out: LeftOut, rows: pd.DataFrame
) -> tuple[list[int], list[str]]:
    """Of the psets `candidates`, those whose left-out values no row with their hash has.

    Parameters
    ----------
    candidates
        Indexes of psets matched to `rows` by hash (skipped, or repeated).
    hashes
        ``_pset_hash`` of each pset.
    left_out
        ``{index: (keys, digest)}`` of the psets that have left-out keys.
    rows
        The rows they were matched to (with a ``_pset_hash`` column): only
        those of the candidates' hashes are read, one dict per row.

    Returns
    -------
    (list of int, list of str)
        The psets matched only by the keys the hash includes, and their
        left-out keys.
    """
    by_keys: dict[tuple[str, ...], list[int]] = {}
    for index in candidates:
        entry = left_out.get(index)
        if entry is not None:
            by_keys.setdefault(entry[0], []).append(index)
    differ: list[int] = []
    keys: set[str] = set()
    for key_set, indexes in by_keys.items():
        group_hashes = {hashes[index] for index in indexes}
        mine = rows[rows["_pset_hash"].isin(group_hashes)]
        present = [key for key in key_set if key in mine.columns]
        stored = {
            (row["_pset_hash"], left_out_digest(row, key_set))
            for row in mine[["_pset_hash", *present]].to_dict("records")
        }
        for index in indexes:
            if (hashes[index], left_out[index][1]) not in stored:
                differ.append(index)
                keys.update(key_set)
    return sorted(differ), sorted(keys)


def describe(keys: Sequence[str]) -> str:
    """The keys as the messages list them, and the fix for the first one.

    Parameters
    ----------
    keys
        Left-out keys.

    Returns
    -------
    str
    """
    shown = ", ".join(repr(key) for key in keys[:5]) + (", ..." if len(keys) > 5 else "")
    first = keys[0] if keys else "n_"
    renamed = first.strip("_") or "n"
    return (
        f"{shown}. Keys ending with '_' (results, by convention) and keys starting with '_' "
        f"(bookkeeping) are left out of _pset_hash, so psweep counts such psets as one. If "
        f"{first!r} is a parameter, rename it (e.g. to {renamed!r}) so that it counts; if leaving "
        f"it out of the pset's identity is intended (a label, a seed to reuse), ignore this warning."
    )


def warn_collisions(count: int, keys: Sequence[str], where: str) -> None:
    """Warn that `count` psets of `where` are one pset by hash only because of `keys`.

    Parameters
    ----------
    count
        How many psets (0: no warning).
    keys
        The left-out keys that tell them apart.
    where
        What holds them, e.g. ``"params"``.
    """
    if not count:
        return
    warnings.warn(
        f"psweep: {count} psets of {where} have the same _pset_hash as another one and differ "
        f"from it only in keys the hash leaves out: {describe(keys)}",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
