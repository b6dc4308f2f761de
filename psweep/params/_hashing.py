"""Hashing psets: the ``_pset_hash`` column and what counts as the same pset.

A canonical byte encoding of each value (type-tolerant where pandas changes
types: ``1 == 1.0``, None == NaN == ``pd.NA``), hashed with :mod:`hashlib`;
stable across processes and Python runs because nothing depends on memory
addresses, hash seeds or pickle bytes. See :func:`pset_hash`.
"""

from __future__ import annotations

import hashlib
import math
import struct
import types
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from psweep._schema import PSET_HASH_ALG
from psweep.params._missing import is_missing
from psweep.errors import ParamsError, ParamsTypeError, PsweepHashError

__all__ = ["pset_hash", "hash_with_layout", "key_layout"]

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
    if is_missing(value):
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
    >>> from psweep.params._hashing import hash_with_layout, key_layout, pset_hash
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
    >>> from psweep.params._hashing import key_layout
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
