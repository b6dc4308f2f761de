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
import types
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from psweep.constants import PSET_HASH_ALG
from psweep.errors import ParamsError, ParamsTypeError, PsweepHashError

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


def merge_dicts(*args: Any, allow_dup_keys: bool = True) -> dict[str, Any]:
    """Merge dicts left to right into one: a later dict's value wins.

    Parameters
    ----------
    *args
        Dicts, as ``merge_dicts(a, b, c)``, or one sequence of them,
        ``merge_dicts([a, b, c])`` (both as in psweep 0.16).
    allow_dup_keys
        If False, a key present in two dicts is an error instead of being
        overwritten. :func:`itr2params` and :func:`pgrid` merge this way, so
        that two plists of the same parameter never silently lose values.

    Returns
    -------
    dict
        A new dict; the inputs are not changed.

    Raises
    ------
    ParamsTypeError
        If an entry is not a dict.
    ParamsError
        If ``allow_dup_keys=False`` and two dicts share a key.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.merge_dicts({"a": 1}, {"b": 2})
    {'a': 1, 'b': 2}
    >>> ps.merge_dicts([{"a": 1}, {"a": 2}])
    {'a': 2}
    >>> ps.merge_dicts({"a": 1}, {"a": 2}, allow_dup_keys=False)
    Traceback (most recent call last):
    ...
    psweep.errors.ParamsError: parameter 'a' appears twice in one pset ...
    """
    if len(args) == 1 and not isinstance(args[0], Mapping):
        if isinstance(args[0], (str, bytes)) or not isinstance(args[0], Iterable):
            raise ParamsTypeError(
                f"merge_dicts: got a {type(args[0]).__name__} ({args[0]!r:.80}); pass "
                f"dicts, merge_dicts(a, b), or a list of them, merge_dicts([a, b])."
            )
        args = tuple(args[0])
    merged: dict[str, Any] = {}
    for dct in args:
        if not isinstance(dct, Mapping):
            raise ParamsTypeError(
                f"merge_dicts: got a {type(dct).__name__} ({dct!r:.80}) where a "
                f"dict was expected. Each entry must be a dict such as "
                f"ps.plist() makes."
            )
        if not allow_dup_keys:
            for key, value in dct.items():
                if key in merged:
                    raise ParamsError(
                        f"parameter {key!r} appears twice in one pset (values "
                        f"{merged[key]!r:.80} and {value!r:.80}). Two plists with the "
                        f"same name were combined; rename one, or join their "
                        f"values into a single plist."
                    )
        merged.update(dct)
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
    return [merge_dicts(_flatten(item), allow_dup_keys=False) for item in loops]


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


def pgrid(*plists: Iterable[Any]) -> list[dict[str, Any]]:
    """Grid (outer product) over plists.

    Parameters
    ----------
    *plists
        Lists of psets, e.g. from :func:`plist`, or ``zip(a, c)`` to keep
        some parameters varying together: ``pgrid(zip(a, c), d)``. A single
        list of those, ``pgrid([a, b])`` as in psweep 0.16, works too, and so
        does a single plist, ``pgrid(a)``.

    Returns
    -------
    list of dict
        ``itr2params(itertools.product(*plists))``.

    Raises
    ------
    ParamsError
        If two plists share a parameter name, or for ``pgrid(zip(a, c))``
        alone (wrap it: ``pgrid([zip(a, c)])``).
    ParamsTypeError
        If an argument is not a list of dicts (or a zip of such lists).

    Examples
    --------
    >>> import psweep as ps
    >>> a, b = ps.plist("a", [1, 2]), ps.plist("b", ["x"])
    >>> ps.pgrid(a, b)
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
    >>> ps.pgrid([zip(a, ps.plist("c", [5, 6])), b])
    [{'a': 1, 'c': 5, 'b': 'x'}, {'a': 2, 'c': 6, 'b': 'x'}]
    """
    if len(plists) == 1:
        only = plists[0]
        if isinstance(only, zip):
            # product(*zip(a, c)) would cross the pairs with each other.
            raise ParamsError(
                "pgrid(zip(a, c)) with the zip as the only argument is ambiguous: "
                "it is not a list of plists. To vary a and c together, wrap it "
                "in a list, ps.pgrid([zip(a, c)]), or use ps.itr2params(zip(a, c))."
            )
        _check_plist(only, 0)
        only = list(only)
        if only and not isinstance(only[0], Mapping):
            plists = tuple(only)  # pgrid([a, b]): a list of plists
        else:
            plists = (only,)  # pgrid(a): one plist
    for index, entry in enumerate(plists):
        _check_plist(entry, index)
    return itr2params(itertools.product(*plists))


def _check_plist(entry: Any, index: int) -> None:
    if isinstance(entry, (str, bytes, Mapping)) or not isinstance(entry, Iterable):
        raise ParamsTypeError(
            f"pgrid: argument #{index} is a {type(entry).__name__} ({entry!r:.80}), "
            f"not a plist. Pass lists of dicts, e.g. ps.pgrid(ps.plist('a', [1, 2]), "
            f"ps.plist('b', [3]))."
        )


# ---------------------------------------------------------------------------
# hashing
# ---------------------------------------------------------------------------

# One byte tag per kind of value, so that e.g. the string "1" and the
# integer 1 never encode alike.
_TAG_NONE, _TAG_BOOL, _TAG_INT, _TAG_FLOAT, _TAG_STR = b"N", b"B", b"I", b"F", b"S"
_TAG_BYTES, _TAG_SEQ, _TAG_MAP, _TAG_ARRAY, _TAG_TIME = b"Y", b"L", b"M", b"A", b"T"
_TAG_SET, _TAG_COMPLEX, _TAG_NAMED, _TAG_OBJECT = b"E", b"C", b"Q", b"O"


# Per key set of a pset (keys in dict order) and column filter: the keys
# that are hashed, in sorted order, with their encodings. The same few key
# sets recur in every pset of a study, so sorting and encoding keys happens
# once per key set.
_LAYOUTS: dict[tuple[Any, ...], tuple[tuple[Any, bytes], ...]] = {}
_MAX_LAYOUTS = 10_000

try:  # CPython's own SHA-1 is ~2x faster than OpenSSL's for a short input
    from _sha1 import sha1 as _sha1
except ImportError:  # pragma: no cover - Pythons built without it
    _sha1 = hashlib.sha1

# Functions whose identity is their module and qualified name.
_NAMED_TYPES = (types.FunctionType, types.BuiltinFunctionType, np.ufunc, type)


def _is_missing_scalar(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or value is np.ma.masked


def _pack_parts(parts: list[bytes]) -> bytes:
    return struct.pack("<Q", len(parts)) + b"".join(struct.pack("<Q", len(p)) + p for p in parts)


def _hash_error(key: str, value: Any, why: str) -> PsweepHashError:
    return PsweepHashError(
        f"pset_hash: the value of key {key!r} is a {type(value).__name__} "
        f"({value!r:.80}), which has no stable hash: {why}. Pass something "
        f"that names it (a string, a number), or put it under a key starting "
        f"with '_' so that it is not part of the hash."
    )


def _qualified_name(value: Any, key: str) -> str:
    """``module:qualname`` of a function or class, the same in every process."""
    if isinstance(value, np.ufunc):
        return f"numpy:{value.__name__}"
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise _hash_error(key, value, "it has no module and name")
    if "<lambda>" in qualname or "<locals>" in qualname:
        raise _hash_error(
            key, value, "a lambda or a function/class defined inside a function "
            "has no name that is the same in every run; define it at module level"
        )
    return f"{module}:{qualname}"


def _encode_object(value: Any, key: str) -> bytes:
    """An instance, by what pickle would store of it: class and state."""
    try:
        reduced = value.__reduce_ex__(4)
    except Exception as exc:  # noqa: BLE001 - any failure means: not picklable
        raise _hash_error(key, value, f"it cannot be pickled ({exc})") from exc
    if isinstance(reduced, str):  # a module-level singleton, pickled by name
        module = getattr(value, "__module__", None) or type(value).__module__
        return _TAG_NAMED + _encode(f"{module}:{reduced}", key)
    parts = [_encode(reduced[0], key), _encode(reduced[1], key)]
    for extra in reduced[2:5]:
        if extra is not None and not isinstance(extra, (dict, list, tuple)):
            extra = list(extra)  # listitems / dictitems iterators
        parts.append(_encode(extra, key))
    return _TAG_OBJECT + _pack_parts(parts)


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
    if _is_missing_scalar(value):
        # None, NaN, pd.NA and NaT all mean "no value": pandas turns one into
        # another when it stores a column, and a pset read back must match.
        return _TAG_NONE
    if isinstance(value, (bool, np.bool_)):
        return _TAG_BOOL + (b"1" if value else b"0")
    if isinstance(value, (int, np.integer)):
        return _TAG_INT + str(int(value)).encode()
    if isinstance(value, (float, np.floating)):
        fvalue = float(value)
        if math.isnan(fvalue):
            return _TAG_NONE
        if fvalue.is_integer():
            # 1.0 == 1: pandas turns int columns with missing values into
            # floats, and a pset read back from the database must match.
            return _TAG_INT + str(int(fvalue)).encode()
        return _TAG_FLOAT + struct.pack("<d", fvalue)
    if isinstance(value, (complex, np.complexfloating)):
        cvalue = complex(value)
        if cvalue.imag == 0:
            return _encode(cvalue.real, key)  # 2+0j == 2
        return _TAG_COMPLEX + _encode(cvalue.real, key) + _encode(cvalue.imag, key)
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
    if isinstance(value, (set, frozenset)):
        # Sorted encodings: the same set hashes alike in every process,
        # whatever its iteration order (which varies with PYTHONHASHSEED).
        return _TAG_SET + _pack_parts(sorted(_encode(item, key) for item in value))
    if isinstance(value, _NAMED_TYPES) and not _is_bound_builtin(value):
        return _TAG_NAMED + _encode(_qualified_name(value, key), key)
    if hasattr(value, "isoformat") and hasattr(value, "timetuple"):
        return _TAG_TIME + _encode(value.isoformat(), key)
    return _encode_object(value, key)


def _is_bound_builtin(value: Any) -> bool:
    """A builtin method bound to an object ([].append), not a module function."""
    owner = getattr(value, "__self__", None)
    return isinstance(value, types.BuiltinFunctionType) and not (
        owner is None or isinstance(owner, types.ModuleType)
    )


def _encode_items(items: Iterable[Any], key: str) -> bytes:
    return _pack_parts([_encode(item, key) for item in items])


def pset_hash(
    dct: Mapping[str, Any],
    method: str = PSET_HASH_ALG,
    raise_error: bool = True,
    skip_prefix_cols: bool = True,
    skip_postfix_cols: bool = True,
) -> Any:
    """Content hash of a pset, the value of the ``_pset_hash`` column.

    Keys starting with ``_`` (bookkeeping) and keys ending with ``_``
    (results, by convention) are left out, as in psweep 0.16. Two psets get
    the same hash when the remaining keys are the same with equal values,
    in any key order:

    * numbers are equal when their values are: ``1 == 1.0 == np.int64(1)
      == 1+0j``; ``True`` is a bool, not the number 1;
    * None, NaN, ``pd.NA`` and ``pd.NaT`` are all "no value", and a key
      with no value hashes like a missing key: ``{"a": 1, "c": None}``
      equals ``{"a": 1}``, as both are the same row in the database;
    * strings and bytes by value;
    * lists and tuples element by element (``[1, 2]`` equals ``(1, 2)``),
      dicts key by key, sets regardless of order;
    * numpy arrays by dtype, shape and bytes (``float64`` and ``float32``
      arrays differ);
    * dates and times by their ISO text;
    * functions (``np.sin``) and classes by module and qualified name;
    * other objects by their class and the state pickle would store, so two
      instances with equal attributes are equal.

    The hash is of a canonical encoding (not of a pickle), so it is the
    same across processes, Python runs and numpy/pandas versions. The values
    differ from 0.16's (which hashed with joblib).

    Parameters
    ----------
    dct
        One pset.
    method
        A :mod:`hashlib` algorithm, ``"sha1"`` (40 hex digits) by default.
    raise_error
        If False, return NaN instead of raising for a value with no stable
        hash.
    skip_prefix_cols, skip_postfix_cols
        Leave out keys starting (ending) with ``_``; set False to hash them.

    Returns
    -------
    str
        The hex digest (NaN if `raise_error` is False and hashing failed).

    Raises
    ------
    PsweepHashError
        For a value with no stable hash (a lambda, a function defined inside
        a function, an object that cannot be pickled); the message names the
        key. A :class:`ParamsTypeError`, so also a ``TypeError``.
    ParamsError
        For an unknown `method`.

    Examples
    --------
    >>> import numpy as np, psweep as ps
    >>> ps.pset_hash({"a": 1, "b": 2.0}) == ps.pset_hash({"b": 2, "a": 1.0})
    True
    >>> ps.pset_hash({"a": 1}) == ps.pset_hash({"a": 1, "_pset_id": "x", "y_": 3})
    True
    >>> ps.pset_hash({"f": np.sin, "s": {3, 1}}) == ps.pset_hash({"s": {1, 3}, "f": np.sin})
    True
    >>> len(ps.pset_hash({"a": 1}, method="md5"))
    32
    """
    if not isinstance(dct, Mapping):
        raise ParamsTypeError(
            f"pset_hash: got a {type(dct).__name__} ({dct!r:.80}), not a dict. "
            f"Pass one pset, e.g. ps.pset_hash({{'a': 1}})."
        )
    layout = key_layout(tuple(dct), skip_prefix_cols, skip_postfix_cols)
    try:
        return hash_with_layout(dct, layout, method)
    except PsweepHashError:
        if raise_error:
            raise
        return np.nan


def hash_with_layout(
    pset: Mapping[str, Any], layout: tuple[tuple[Any, bytes], ...], method: str = PSET_HASH_ALG
) -> str:
    """:func:`pset_hash` of `pset`, given the :func:`key_layout` of its keys.

    For callers that hash many psets with the same keys and look the layout
    up once per key set.

    Parameters
    ----------
    pset
        One pset.
    layout
        ``key_layout(tuple(pset))``.
    method
        A :mod:`hashlib` algorithm.

    Returns
    -------
    str
        The hex digest, equal to ``pset_hash(pset)``.

    Raises
    ------
    PsweepHashError
        For a value with no stable hash.

    Examples
    --------
    >>> from psweep.params import hash_with_layout, key_layout, pset_hash
    >>> pset = {"b": 2, "a": 1}
    >>> hash_with_layout(pset, key_layout(tuple(pset))) == pset_hash(pset)
    True
    """
    parts = []
    for key, encoded_key in layout:
        value = pset[key]
        if type(value) is int:
            parts.append(encoded_key)
            parts.append(b"I%d" % value)
            continue
        try:
            encoded = _encode(value, key)
        except RecursionError as exc:
            raise _hash_error(key, value, "it contains itself") from exc
        if encoded != _TAG_NONE:  # a missing value counts as a missing key
            parts.append(encoded_key)
            parts.append(encoded)
    data = b"".join(parts)
    if method == "sha1":
        return _sha1(data).hexdigest()
    try:
        return hashlib.new(method, data).hexdigest()
    except (ValueError, TypeError) as exc:
        raise ParamsError(
            f"pset_hash: method={method!r} is not a hashlib algorithm; use "
            f"'sha1' (the default) or e.g. 'md5', 'sha256'."
        ) from exc


def key_layout(
    keys: tuple[Any, ...], skip_prefix_cols: bool = True, skip_postfix_cols: bool = True
) -> tuple[tuple[Any, bytes], ...]:
    """The keys that :func:`pset_hash` hashes, sorted, with their encodings.

    Cached per key set and filter (up to 10 000 of them).

    Parameters
    ----------
    keys
        A pset's keys, in its order.
    skip_prefix_cols, skip_postfix_cols
        Leave out keys starting (ending) with ``_``.

    Returns
    -------
    tuple of (key, bytes)
        The hashed keys, sorted.

    Examples
    --------
    >>> from psweep.params import key_layout
    >>> [key for key, _ in key_layout(("b", "a", "_pset_id", "y_"))]
    ['a', 'b']
    """
    cache_key = (keys, skip_prefix_cols, skip_postfix_cols)
    found = _LAYOUTS.get(cache_key)
    if found is None:
        hashed = sorted(
            key for key in keys
            if not (skip_prefix_cols and str(key).startswith("_"))
            and not (skip_postfix_cols and str(key).endswith("_"))
        )
        found = tuple((key, _encode(key, key)) for key in hashed)
        if len(_LAYOUTS) < _MAX_LAYOUTS:
            _LAYOUTS[cache_key] = found
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
