"""psweep 0.16's sequence helpers: what counts as a sequence, flattening.

For study scripts that collect results: flatten nested lists, turn a nested
dict of results into one level of columns.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

__all__ = [
    "is_seq",
    "itr",
    "flatten",
    "flatten_dict",
]


def is_seq(obj: Any) -> bool:
    """Whether `obj` is a sequence of items: iterable, but not a str, dict or file.

    Parameters
    ----------
    obj
        Anything.

    Returns
    -------
    bool

    Examples
    --------
    >>> import psweep as ps
    >>> ps.is_seq([1, 2]), ps.is_seq({1, 2}), ps.is_seq(x for x in "ab")
    (True, True, True)
    >>> ps.is_seq("12"), ps.is_seq({"a": 1}), ps.is_seq(3)
    (False, False, False)
    """
    if isinstance(obj, (str, bytes, Mapping, io.IOBase)):
        return False
    try:
        iter(obj)
    except TypeError:
        return False
    return True


def itr(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: let a function that takes one sequence also take its items.

    ``func([a, b])`` and ``func(a, b)`` then do the same; a single
    non-sequence argument ``func(a)`` becomes ``func([a])``.

    Parameters
    ----------
    func
        Function whose first argument is a sequence.

    Returns
    -------
    callable

    Examples
    --------
    >>> import psweep as ps
    >>> @ps.itr
    ... def total(values):
    ...     return sum(values)
    >>> total(1, 2, 3), total([1, 2, 3]), total(5)
    (6, 6, 5)
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwds: Any) -> Any:
        if len(args) == 1:
            arg = args[0]
            return func(arg if is_seq(arg) else [arg], **kwds)
        return func(args, **kwds)

    return wrapper


def flatten(seq: Iterable[Any]) -> Iterator[Any]:
    """The items of a nested sequence, depth first (strings and dicts are items).

    Parameters
    ----------
    seq
        A sequence that may contain sequences.

    Returns
    -------
    iterator

    Examples
    --------
    >>> import psweep as ps
    >>> list(ps.flatten([1, [2, (3, "ab")], [[{"k": 4}]]]))
    [1, 2, 3, 'ab', {'k': 4}]
    """
    for item in seq:
        if is_seq(item):
            yield from flatten(item)
        else:
            yield item


def flatten_dict(dct: Mapping[Any, Any], join_str: str = "_") -> dict[str, Any]:
    """A nested dict as one level, with keys joined by `join_str`.

    Parameters
    ----------
    dct
        Dict whose values may be dicts.
    join_str
        Separator of the joined keys (keys are turned into strings).

    Returns
    -------
    dict

    Examples
    --------
    >>> import psweep as ps
    >>> ps.flatten_dict({"a": 1, "b": {"c": 2, "d": {23: 42}}})
    {'a': 1, 'b_c': 2, 'b_d_23': 42}
    >>> ps.flatten_dict({"b": {"c": 2}}, join_str=".")
    {'b.c': 2}
    """
    flat: dict[Any, Any] = {}

    def walk(sub: Mapping[Any, Any], prefix: str | None) -> None:
        for key, value in sub.items():
            joined = key if prefix is None else f"{prefix}{join_str}{key}"
            if isinstance(value, Mapping):
                walk(value, str(joined))
            else:
                flat[joined] = value

    walk(dct, None)
    return flat
