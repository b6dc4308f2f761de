"""Building parameter sets (psets).

A pset is a dict ``{"a": 1, "b": "x"}``; ``params`` is a list of psets. The
helpers here build such lists from 1d sequences (:func:`plist`), grids
(:func:`pgrid`) and any iterator of nested tuples (:func:`itr2params`);
:mod:`psweep.params._filters` drops repeated ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from psweep.errors import ParamsError, ParamsTypeError

__all__ = [
    "plist",
    "seq2dicts",
    "merge_dicts",
    "itr2params",
    "loops2params",
    "pgrid",
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
        If `name` is not a string, or `seq` is not a sequence of values: a
        single value (``plist("a", 5)``), a string (which would give one
        pset per character) or a dict.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.plist("a", [1, 2])
    [{'a': 1}, {'a': 2}]
    >>> ps.plist("name", ["abc"])
    [{'name': 'abc'}]
    """
    if not isinstance(name, str):
        raise ParamsTypeError(
            f"plist(name={name!r}, ...): the parameter name is a "
            f"{type(name).__name__}, not a str. Pass the name as a string, "
            f"e.g. plist('a', [1, 2])."
        )
    _check_values(name, seq)
    return [{name: value} for value in seq]


def _check_values(name: str, seq: Any) -> None:
    """Raise ParamsTypeError unless `seq` is an iterable of values for plist."""
    if isinstance(seq, Mapping):
        raise ParamsTypeError(
            f"plist({name!r}, {seq!r:.80}): the values are a {type(seq).__name__}, not a "
            f"sequence of values (iterating it would give its keys). Pass the values "
            f"you mean, e.g. ps.plist({name!r}, list(d.values())) or list(d)."
        )
    single = isinstance(seq, (str, bytes, bytearray)) or not isinstance(seq, Iterable)
    if not single and getattr(seq, "ndim", None) == 0:  # a 0-d numpy array
        single, seq = True, seq.item()
    if single:
        what = "a string, which would give one pset per character" if isinstance(seq, (str, bytes)) else (
            f"a single {type(seq).__name__}"
        )
        raise ParamsTypeError(
            f"plist({name!r}, {seq!r:.80}): the values are {what}, not a sequence of "
            f"values. For one pset with this value, wrap it in a list: "
            f"ps.plist({name!r}, [{seq!r:.80}])."
        )


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
    if isinstance(entry, (list, tuple)) and entry and not isinstance(entry[0], (Mapping, list, tuple, zip)):
        # Values where psets belong, e.g. pgrid(ps.plist("a", [1]), [1, 2]).
        raise ParamsTypeError(
            f"pgrid: argument #{index} holds {entry[0]!r:.40} (a {type(entry[0]).__name__}), "
            f"values, not psets. Make a plist of them first: ps.plist('name', {entry!r:.80})."
        )
    if isinstance(entry, (list, tuple)) and entry and isinstance(entry[0], (list, tuple)):
        first = entry[0]
        if first and not isinstance(first[0], Mapping) and not isinstance(first[0], (list, tuple)):
            raise ParamsTypeError(
                f"pgrid: argument #{index} holds {first!r:.40} (a {type(first).__name__} of "
                f"{type(first[0]).__name__}), values, not psets. Make a plist of them first: "
                f"ps.plist('name', ...)."
            )
