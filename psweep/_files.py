"""Files that are never torn, and the flock probes that tell live files from leftovers.

The one atomic writer of psweep (:func:`write_atomic`): the new content
goes to a temporary file in the target's folder, which is locked
(``flock``) while it is written, flushed, ``fsync``\\ ed and then
``os.replace``\\ d over the target, so a reader sees the old file or the new
one, never a part. The temporary file's name (:func:`temp_name`) and its
lock let a cleanup tell a file some process is writing from one a killed
writer left (:func:`is_temp_of`, :func:`remove_if_unlocked`).

Examples
--------
>>> from psweep._files import write_atomic
>>> write_atomic("notes.txt", b"first\\n").replaced
True
>>> open("notes.txt").read()
'first\\n'
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
from collections.abc import Callable
from typing import IO, NamedTuple

__all__ = [
    "Written",
    "write_atomic",
    "temp_name",
    "is_temp_of",
    "locked_temp_file",
    "remove_if_unlocked",
    "is_locked",
]

# The process umask, read once (os.umask can only be read by setting it).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


class Written(NamedTuple):
    """What :func:`write_atomic` did."""

    #: Whether the target now holds the new content.
    replaced: bool
    #: ``os.fstat`` of the new file (None if not replaced).
    stat: os.stat_result | None
    #: With ``keep_locked=True``: the open descriptor of the new file, which
    #: holds its flock until closed (None otherwise).
    fd: int | None


def temp_name(path: str) -> str:
    """A fresh name for a temporary file beside `path`.

    ``.<basename>.<8 hex digits>.tmp``: :func:`is_temp_of` tells these
    apart from the temporary files of files whose names share a prefix
    (``results.pk`` and ``results.pk.v2``).

    Parameters
    ----------
    path
        The file to write.

    Returns
    -------
    str

    Examples
    --------
    >>> from psweep._files import is_temp_of, temp_name
    >>> import os
    >>> is_temp_of("calc/results.pk", os.path.basename(temp_name("calc/results.pk")))
    True
    """
    folder, base = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{base}.{secrets.token_hex(4)}.tmp")


def is_temp_of(path: str, name: str) -> bool:
    """Whether the file `name` is a temporary file of `path` (see :func:`temp_name`).

    Parameters
    ----------
    path
        The file written.
    name
        A file name in its folder.

    Returns
    -------
    bool
    """
    prefix = f".{os.path.basename(path)}."
    middle = name[len(prefix) : -len(".tmp")]
    # Eight characters without a dot: what temp_name (and the tempfile
    # module used before it) puts there.
    return name.startswith(prefix) and name.endswith(".tmp") and len(middle) == 8 and "." not in middle


def locked_temp_file(path: str) -> tuple[int, str]:
    """A new temporary file beside `path`, created private and locked (flock).

    Parameters
    ----------
    path
        The file to write.

    Returns
    -------
    fd : int
        Its open descriptor, which holds the lock.
    name : str
        Its path.
    """
    while True:
        tmp = temp_name(path)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # a cleanup is removing it (see remove_if_unlocked)
        else:
            if os.fstat(fd).st_nlink:
                return fd, tmp
        os.close(fd)  # removed by a cleanup before we locked it: anew


def remove_if_unlocked(path: str, guarded: str | None = None) -> None:
    """Delete the file `path` (and first `guarded`) unless some process holds its flock.

    The file stays locked by us until it is gone, so that a writer who
    creates a file and then locks it either fails to lock it or finds it
    already removed (:func:`locked_temp_file` then starts anew).

    Parameters
    ----------
    path
        A temporary file left by a writer that may have died, or the lock
        file of such a writer's work.
    guarded
        A folder that the lock file `path` guards, removed with it.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if guarded is not None:
            shutil.rmtree(guarded, ignore_errors=True)
        os.remove(path)
    except (BlockingIOError, FileNotFoundError):
        pass  # being written, or removed by someone else
    finally:
        os.close(fd)


def is_locked(path: str) -> bool:
    """Whether some process holds the flock of the file at `path`.

    Parameters
    ----------
    path
        A file: a journal, a run record, a temporary file.

    Returns
    -------
    bool
        False also when the file does not exist.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # releases our probe's lock, if taken
    return False


def _has_content(path: str, data: bytes, mode: int | None) -> bool:
    try:
        with open(path, "rb") as fd:
            same = fd.read() == data
        return same and (mode is None or os.stat(path).st_mode & 0o7777 == mode)
    except OSError:
        return False


def write_atomic(
    path: str,
    content: bytes | Callable[[IO[bytes]], None],
    *,
    mode: int | None = None,
    may_replace: Callable[[], bool] | None = None,
    keep_locked: bool = False,
    unless_same: bool = False,
    durable: bool = True,
) -> Written:
    """Write `content` to `path` so that the file is never torn, also by a crash.

    Parameters
    ----------
    path
        The target; its folder is created if missing.
    content
        The bytes, or ``write(fobj)`` writing them to a binary file.
    mode
        Permission bits of the new file. Default: those the target has, or
        a new file's usual ones (``0o666`` less the umask).
    may_replace
        Called right before the replace, when the new file is complete and
        synced: False leaves the target as it is (e.g. another process
        changed it meanwhile).
    keep_locked
        Keep the new file open and flock'ed; its descriptor is returned in
        :attr:`Written.fd` (closing it releases the lock). The file is
        locked before it appears under its name.
    unless_same
        Leave a target that holds `content` (bytes) and `mode` already,
        so that an unchanged file needs no write access.
    durable
        Sync the new file to disk before it replaces the target (default).
        False skips the sync, which costs milliseconds: the file is still
        never torn by a crash of any process, but a power loss right after
        may leave it empty. For bookkeeping that a reader can do without
        and that is rewritten anyway (run records), never for results.

    Returns
    -------
    Written

    Examples
    --------
    >>> from psweep._files import write_atomic
    >>> write_atomic("a.json", lambda fobj: fobj.write(b"{}"), mode=0o644).replaced
    True
    >>> write_atomic("a.json", b"{}", mode=0o644, unless_same=True).replaced
    False
    """
    if unless_same and isinstance(content, bytes) and _has_content(path, content, mode):
        return Written(False, None, None)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = locked_temp_file(path)
    try:
        if mode is None:
            try:
                mode = os.stat(path).st_mode & 0o7777
            except FileNotFoundError:
                mode = 0o666 & ~_UMASK
        os.fchmod(fd, mode)
        with os.fdopen(os.dup(fd), "wb") as fobj:
            if isinstance(content, bytes):
                fobj.write(content)
            else:
                content(fobj)
            fobj.flush()
            if durable:
                os.fsync(fobj.fileno())
        if may_replace is not None and not may_replace():
            os.remove(tmp)
            os.close(fd)
            return Written(False, None, None)
        os.replace(tmp, path)
        # Of our file, which the path may no longer name by the time we
        # stat it (the rename changed its ctime).
        stat = os.fstat(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        os.close(fd)
        raise
    if keep_locked:
        return Written(True, stat, fd)
    os.close(fd)  # releases the flock
    return Written(True, stat, None)
