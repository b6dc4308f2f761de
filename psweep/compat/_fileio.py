"""psweep 0.16's file helpers: folders, paths, and text, pickle and JSON files.

They are apart from the engine (run, store, workers never import them) and
serve study scripts: write a file into a pset's folder, read it back.
The database has its own atomic writer (:mod:`psweep._files`); these
write plainly, as 0.16's did.
"""

from __future__ import annotations

import json
import os
import pickle
from typing import Any

__all__ = [
    "makedirs",
    "fullpath",
    "file_write",
    "file_read",
    "pickle_write",
    "pickle_read",
    "json_write",
    "json_read",
]


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
