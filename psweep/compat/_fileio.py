"""Small helpers that psweep 0.16 exported: shell, files, sequences, UUIDs.

They are apart from the engine (run, store, workers never import them) and
serve study scripts: write a file into a pset's folder, call a program,
flatten a nested dict of results.
"""

from __future__ import annotations

import functools
import io
import json
import os
import pickle
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from psweep.errors import PsweepError

__all__ = [
    "system",
    "makedirs",
    "fullpath",
    "file_write",
    "file_read",
    "pickle_write",
    "pickle_read",
    "json_write",
    "json_read",
    "is_seq",
    "itr",
    "flatten",
    "flatten_dict",
    "get_uuid",
    "get_many_uuids",
]


def system(cmd: str, **kwds: Any) -> subprocess.CompletedProcess:
    """Run a shell command; fail loudly, with its output, if it fails.

    Parameters
    ----------
    cmd
        Shell command line; chain several with ``&&`` so that a failing one
        stops the rest.
    **kwds
        Passed to :func:`subprocess.run` (e.g. ``cwd=``, ``env=``).

    Returns
    -------
    subprocess.CompletedProcess
        ``.stdout`` holds stdout and stderr together, as bytes.

    Raises
    ------
    subprocess.CalledProcessError
        If the command exits non-zero; its output is printed first.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.system("echo hello").stdout.decode()
    'hello\\n'
    """
    try:
        return subprocess.run(
            cmd, shell=True, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwds
        )
    except subprocess.CalledProcessError as exc:
        print(exc.stdout.decode(errors="replace"), file=sys.stderr)
        raise


def makedirs(path: str | os.PathLike) -> None:
    """Create folder `path` and its parents; an existing one or ``""`` is fine.

    Parameters
    ----------
    path
        Folder to create.

    Examples
    --------
    >>> import os, psweep as ps
    >>> ps.makedirs("a/b/c"); ps.makedirs("a/b/c"); ps.makedirs("")
    >>> os.path.isdir("a/b/c")
    True
    """
    if os.fspath(path).strip():
        os.makedirs(path, exist_ok=True)


def fullpath(path: str | os.PathLike) -> str:
    """Absolute path of `path`, with ``~`` expanded.

    Parameters
    ----------
    path
        Any path.

    Returns
    -------
    str

    Examples
    --------
    >>> import os, psweep as ps
    >>> ps.fullpath("x") == os.path.join(os.getcwd(), "x")
    True
    """
    return os.path.abspath(os.path.expanduser(path))


def _parent(path: str | os.PathLike) -> str:
    return os.path.dirname(os.fspath(path))


def file_write(path: str | os.PathLike, txt: str, mode: str = "w") -> None:
    """Write text to a file, creating its folder.

    Characters the file's encoding cannot hold are written as XML character
    references (``&#956;``) instead of failing.

    Parameters
    ----------
    path
        Target file.
    txt
        Text to write.
    mode
        ``"w"`` to replace, ``"a"`` to append.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.file_write("calc/p1/input.txt", "a = 1\\n")
    >>> ps.file_read("calc/p1/input.txt")
    'a = 1\\n'
    """
    makedirs(_parent(path))
    with open(path, mode=mode) as fd:
        try:
            fd.write(txt)
        except UnicodeEncodeError:
            fd.write(txt.encode("ascii", errors="xmlcharrefreplace").decode())


def file_read(path: str | os.PathLike) -> str:
    """The text of a file.

    Parameters
    ----------
    path
        File to read.

    Returns
    -------
    str

    Examples
    --------
    >>> import psweep as ps
    >>> ps.file_write("notes.txt", "done")
    >>> ps.file_read("notes.txt")
    'done'
    """
    with open(path) as fd:
        return fd.read()


def pickle_write(path: str | os.PathLike, obj: Any) -> None:
    """Pickle `obj` to a file, creating its folder.

    Parameters
    ----------
    path
        Target file.
    obj
        Any picklable object.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.pickle_write("calc/p1/out.pk", {"y": [1, 2]})
    >>> ps.pickle_read("calc/p1/out.pk")
    {'y': [1, 2]}
    """
    makedirs(_parent(path))
    with open(path, "wb") as fd:
        pickle.dump(obj, fd)


def pickle_read(path: str | os.PathLike) -> Any:
    """Unpickle the object in a file (only read files you trust).

    Parameters
    ----------
    path
        File written by :func:`pickle_write`.

    Returns
    -------
    object

    Examples
    --------
    >>> import psweep as ps
    >>> ps.pickle_write("x.pk", 42)
    >>> ps.pickle_read("x.pk")
    42
    """
    with open(path, "rb") as fd:
        return pickle.load(fd)


def json_write(path: str | os.PathLike, obj: Any) -> None:
    """Write `obj` as indented JSON, creating the file's folder.

    Parameters
    ----------
    path
        Target file.
    obj
        Anything :func:`json.dumps` takes.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.json_write("calc/info.json", {"a": 1, "b": [None, "x"]})
    >>> ps.json_read("calc/info.json")
    {'a': 1, 'b': [None, 'x']}
    """
    file_write(path, json.dumps(obj, indent=2))


def json_read(path: str | os.PathLike) -> Any:
    """The object in a JSON file.

    Parameters
    ----------
    path
        File to read.

    Returns
    -------
    object

    Examples
    --------
    >>> import psweep as ps
    >>> ps.json_write("x.json", [1, 2])
    >>> ps.json_read("x.json")
    [1, 2]
    """
    with open(path) as fd:
        return json.load(fd)


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


def get_uuid(retry: int = 10, existing: Iterable[str] = ()) -> str:
    """A random UUID (version 4) as text, not in `existing`.

    Parameters
    ----------
    retry
        Attempts before giving up.
    existing
        UUIDs to avoid, e.g. ``df._pset_id``.

    Returns
    -------
    str
        36 characters, e.g. ``'b5233ba3-25eb-40ac-b2b1-d1babbacd904'``.

    Raises
    ------
    PsweepError
        If every attempt hit `existing` (practically never).

    Examples
    --------
    >>> import psweep as ps
    >>> len(ps.get_uuid())
    36
    """
    return get_many_uuids(1, retry=retry, existing=existing)[0]


def get_many_uuids(num: int, retry: int = 10, existing: Iterable[str] = ()) -> list[str]:
    """`num` distinct random UUIDs as text, none in `existing`.

    Parameters
    ----------
    num
        How many.
    retry
        Attempts before giving up.
    existing
        UUIDs to avoid.

    Returns
    -------
    list of str

    Raises
    ------
    PsweepError
        If no attempt gave `num` new distinct UUIDs.

    Examples
    --------
    >>> import psweep as ps
    >>> ids = ps.get_many_uuids(3)
    >>> len(set(ids)), all(len(i) == 36 for i in ids)
    (3, True)
    """
    avoid = set(existing)
    for _ in range(max(int(retry), 1)):
        fresh = {str(uuid.uuid4()) for _ in range(num)}
        if len(fresh) == num and not fresh & avoid:
            return list(fresh)
    raise PsweepError(
        f"could not make {num} UUIDs distinct from each other and from the "
        f"{len(avoid)} existing ones in {retry} attempts; pass a larger retry="
    )
