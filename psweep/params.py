"""Building parameter sets (psets) and hashing them.

A pset is a dict ``{"a": 1, "b": "x"}``; ``params`` is a list of psets. The
helpers here build such lists from 1d sequences (:func:`plist`), grids
(:func:`pgrid`) and any iterator of nested tuples (:func:`itr2params`).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from psweep.errors import ParamsError, ParamsTypeError

__all__ = [
    "plist",
    "seq2dicts",
    "merge_dicts",
    "itr2params",
    "loops2params",
    "pgrid",
    "pset_hash",
    "filter_params_unique",
    "filter_params_dup_hash",
]


def plist(name: str, seq: Iterable[Any]) -> list[dict[str, Any]]:
    """Turn one parameter's values into a list of one-key psets.

    Parameters
    ----------
    name
        The parameter's name, a column of the database.
    seq
        Its values.

    Returns
    -------
    list of dict
        ``[{name: v} for v in seq]``.

    Raises
    ------
    ParamsTypeError
        If `name` is not a string.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.plist("a", [1, 2])
    [{'a': 1}, {'a': 2}]
    """
    if not isinstance(name, str):
        raise ParamsTypeError(
            f"plist(name={name!r}, ...): the parameter name is a "
            f"{type(name).__name__}, not a str. Pass the name as a string, "
            f"e.g. plist('a', [1, 2])."
        )
    return [{name: value} for value in seq]


def seq2dicts(name: str, seq: Iterable[Any]) -> list[dict[str, Any]]:
    """Old name of :func:`plist`, kept for scripts written for psweep < 0.6.

    Parameters
    ----------
    name
        The parameter's name.
    seq
        Its values.

    Returns
    -------
    list of dict
        ``[{name: v} for v in seq]``.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.seq2dicts("b", ["x"])
    [{'b': 'x'}]
    """
    return plist(name, seq)


def merge_dicts(args: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge several one-parameter dicts into one pset.

    Parameters
    ----------
    args
        Dicts whose keys must not overlap.

    Returns
    -------
    dict
        The union of all `args`.

    Raises
    ------
    ParamsError
        If two dicts hold the same key: a grid of two plists of the same
        parameter would silently keep only the last value.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.merge_dicts([{"a": 1}, {"b": 2}])
    {'a': 1, 'b': 2}
    """
    merged: dict[str, Any] = {}
    for dct in args:
        if not isinstance(dct, Mapping):
            raise ParamsTypeError(
                f"merge_dicts: got a {type(dct).__name__} ({dct!r}) where a "
                f"dict was expected. Each entry must be a dict such as "
                f"ps.plist() makes."
            )
        for key, value in dct.items():
            if key in merged:
                raise ParamsError(
                    f"parameter {key!r} appears twice in one pset (values "
                    f"{merged[key]!r} and {value!r}). Two plists with the "
                    f"same name were combined; rename one, or join their "
                    f"values into a single plist."
                )
            merged[key] = value
    return merged


def _flatten(item: Any) -> list[Any]:
    """Flatten nested tuples/lists of dicts, as itertools.product/zip make."""
    if isinstance(item, Mapping):
        return [item]
    if isinstance(item, (tuple, list)):
        flat: list[Any] = []
        for sub in item:
            flat.extend(_flatten(sub))
        return flat
    raise ParamsTypeError(
        f"itr2params: found a {type(item).__name__} ({item!r}) inside the "
        f"loop; expected dicts (from ps.plist) nested in tuples as "
        f"itertools.product and zip make them."
    )


def itr2params(loops: Iterable[Any]) -> list[dict[str, Any]]:
    """Turn an iterator of (nested) tuples of dicts into params.

    Parameters
    ----------
    loops
        Typically ``itertools.product(...)`` or ``zip(...)`` over plists,
        nested in any way; each item is flattened and merged into one pset.

    Returns
    -------
    list of dict
        One pset per item of `loops`.

    Raises
    ------
    ParamsError
        If one item holds the same parameter twice.

    Examples
    --------
    >>> import itertools, psweep as ps
    >>> x = ps.plist("x", [1, 2])
    >>> y = ps.plist("y", [3, 4])
    >>> z = ps.plist("z", [5])
    >>> ps.itr2params(itertools.product(zip(x, y), z))
    [{'x': 1, 'y': 3, 'z': 5}, {'x': 2, 'y': 4, 'z': 5}]
    """
    return [merge_dicts(_flatten(item)) for item in loops]


def loops2params(loops: Iterable[Any]) -> list[dict[str, Any]]:
    """Old name of :func:`itr2params`.

    Parameters
    ----------
    loops
        Iterator of (nested) tuples of dicts.

    Returns
    -------
    list of dict
        One pset per item of `loops`.

    Examples
    --------
    >>> import itertools, psweep as ps
    >>> ps.loops2params(itertools.product(ps.plist("a", [1]), ps.plist("b", [2])))
    [{'a': 1, 'b': 2}]
    """
    return itr2params(loops)


def pgrid(*plists: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Grid (outer product) over plists.

    Parameters
    ----------
    *plists
        Lists of psets, e.g. from :func:`plist`, or an `itr2params` result
        to keep some parameters varying together. A single list of plists,
        ``pgrid([p1, p2])`` as in psweep 0.16, works too.

    Returns
    -------
    list of dict
        ``itr2params(itertools.product(*plists))``.

    Raises
    ------
    ParamsError
        If two plists share a parameter name.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.pgrid(ps.plist("a", [1, 2]), ps.plist("b", ["x"]))
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
    """
    if len(plists) == 1 and plists[0] and not isinstance(plists[0][0], Mapping):
        plists = tuple(plists[0])
    return itr2params(itertools.product(*plists))


# ---------------------------------------------------------------------------
# hashing
# ---------------------------------------------------------------------------

# One byte tag per kind of value, so that e.g. the string "1" and the
# integer 1 never encode alike.
_TAG_NONE, _TAG_BOOL, _TAG_INT, _TAG_FLOAT, _TAG_STR = b"N", b"B", b"I", b"F", b"S"
_TAG_BYTES, _TAG_SEQ, _TAG_MAP, _TAG_ARRAY, _TAG_TIME = b"Y", b"L", b"M", b"A", b"T"


# Per key set of a pset (keys in dict order): the keys that are hashed, in
# sorted order, with their encodings. The same few key sets recur in every
# pset of a study, so sorting and encoding keys happens once per key set.
_LAYOUTS: dict[tuple[Any, ...], tuple[tuple[Any, bytes], ...]] = {}
_MAX_LAYOUTS = 10_000

try:  # CPython's own SHA-1 is ~2x faster than OpenSSL's for a short input
    from _sha1 import sha1 as _sha1
except ImportError:  # pragma: no cover - Pythons built without it
    _sha1 = hashlib.sha1


def _encode(value: Any, key: str) -> bytes:
    """Canonical bytes of `value`; see pset_hash for what counts as equal."""
    kind = type(value)
    if kind is str:  # fast paths for the common scalars
        data = value.encode("utf-8")
        return _TAG_STR + struct.pack("<Q", len(data)) + data
    if kind is int:
        return _TAG_INT + str(value).encode()
    if kind is float and not value.is_integer() and value == value:
        return _TAG_FLOAT + struct.pack("<d", value)
    if value is None or value is np.ma.masked:
        return _TAG_NONE
    if isinstance(value, (bool, np.bool_)):
        return _TAG_BOOL + (b"1" if value else b"0")
    if isinstance(value, (int, np.integer)):
        return _TAG_INT + str(int(value)).encode()
    if isinstance(value, (float, np.floating)):
        fvalue = float(value)
        if math.isnan(fvalue):
            return _TAG_FLOAT + b"nan"
        if fvalue.is_integer():
            # 1.0 == 1: pandas turns int columns with missing values into
            # floats, and a pset read back from the database must match.
            return _TAG_INT + str(int(fvalue)).encode()
        return _TAG_FLOAT + struct.pack("<d", fvalue)
    if isinstance(value, str):
        data = value.encode("utf-8")
        return _TAG_STR + struct.pack("<Q", len(data)) + data
    if isinstance(value, (bytes, bytearray)):
        return _TAG_BYTES + struct.pack("<Q", len(value)) + bytes(value)
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            return _TAG_SEQ + _encode_items(value.tolist(), key)
        arr = np.ascontiguousarray(value)
        head = f"{arr.dtype.str}|{arr.shape}".encode()
        return _TAG_ARRAY + struct.pack("<Q", len(head)) + head + arr.tobytes()
    if isinstance(value, (list, tuple)):
        return _TAG_SEQ + _encode_items(value, key)
    if isinstance(value, Mapping):
        parts = []
        for sub_key in sorted(value, key=repr):
            parts.append(_encode(sub_key, key) + _encode(value[sub_key], key))
        return _TAG_MAP + struct.pack("<Q", len(parts)) + b"".join(parts)
    if hasattr(value, "isoformat") and hasattr(value, "timetuple"):
        return _TAG_TIME + _encode(value.isoformat(), key)
    raise ParamsTypeError(
        f"pset_hash: the value of key {key!r} is a {type(value).__name__} "
        f"({value!r:.80}), which psweep cannot hash. Use numbers, strings, "
        f"bools, None, lists/tuples/dicts of those, numpy arrays or "
        f"datetimes, or put the value under a key starting with '_' so "
        f"that it is not part of the hash."
    )


def _encode_items(items: Iterable[Any], key: str) -> bytes:
    parts = [_encode(item, key) for item in items]
    return struct.pack("<Q", len(parts)) + b"".join(
        struct.pack("<Q", len(p)) + p for p in parts
    )


def pset_hash(pset: Mapping[str, Any]) -> str:
    """Content hash of a pset, the value of the ``_pset_hash`` column.

    Two psets get the same hash when they have the same keys (keys starting
    with ``_`` are left out) with equal values, in any key order:

    * numbers are equal when their values are: ``1 == 1.0 == np.int64(1)``,
      NaN equals NaN; ``True`` is a bool, not the number 1;
    * strings, bytes and None by value;
    * lists and tuples element by element (``[1, 2]`` equals ``(1, 2)``),
      dicts key by key;
    * numpy arrays by dtype, shape and bytes (``float64`` and ``float32``
      arrays differ);
    * dates and times by their ISO text.

    The hash is a SHA-1 of a canonical encoding (not of a pickle), so it is
    the same across processes, Python runs and numpy/pandas versions.

    Parameters
    ----------
    pset
        One pset.

    Returns
    -------
    str
        40 hex digits.

    Raises
    ------
    ParamsTypeError
        If a value's type is not listed above; the message names the key.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.pset_hash({"a": 1, "b": 2.0}) == ps.pset_hash({"b": 2, "a": 1.0})
    True
    >>> ps.pset_hash({"a": 1}) == ps.pset_hash({"a": 1, "_pset_id": "x"})
    True
    """
    return hash_with_layout(pset, key_layout(tuple(pset)))


def hash_with_layout(pset: Mapping[str, Any], layout: tuple[tuple[Any, bytes], ...]) -> str:
    """:func:`pset_hash` of `pset`, given the :func:`key_layout` of its keys.

    For callers that hash many psets with the same keys and look the layout
    up once per key set.

    Parameters
    ----------
    pset
        One pset.
    layout
        ``key_layout(tuple(pset))``.

    Returns
    -------
    str
        40 hex digits, equal to ``pset_hash(pset)``.
    """
    parts = []
    for key, encoded_key in layout:
        value = pset[key]
        parts.append(encoded_key)
        parts.append(b"I%d" % value if type(value) is int else _encode(value, key))
    return _sha1(b"".join(parts)).hexdigest()


def key_layout(keys: tuple[Any, ...]) -> tuple[tuple[Any, bytes], ...]:
    """The keys that :func:`pset_hash` hashes, sorted, with their encodings.

    Cached per key set (up to 10 000 of them).

    Parameters
    ----------
    keys
        A pset's keys, in its order.

    Returns
    -------
    tuple of (key, bytes)
        Keys not starting with ``_``, sorted.
    """
    found = _LAYOUTS.get(keys)
    if found is None:
        hashed = sorted(key for key in keys if not str(key).startswith("_"))
        found = tuple((key, _encode(key, key)) for key in hashed)
        if len(_LAYOUTS) < _MAX_LAYOUTS:
            _LAYOUTS[keys] = found
    return found


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

    Examples
    --------
    >>> import psweep as ps
    >>> ps.filter_params_unique([{"a": 1}, {"a": 1.0}, {"a": 2}])
    [{'a': 1}, {'a': 2}]
    """
    seen: set[str] = set()
    unique = []
    for pset in params:
        phash = pset_hash(pset)
        if phash not in seen:
            seen.add(phash)
            unique.append(dict(pset))
    return unique


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

    Examples
    --------
    >>> import psweep as ps
    >>> ps.filter_params_dup_hash([{"a": 1}, {"a": 2}], [ps.pset_hash({"a": 1})])
    [{'a': 2}]
    """
    skip = set(hashes)
    return [dict(p) for p in params if pset_hash(p) not in skip]
