"""Can this process write where a run writes? Asked before any pset runs, and told plainly.

A run writes its journal (``<calc_dir>/.psweep/journal/<database>/``) from
the first row on, and its final fold writes a temporary file in the calc
dir and renames it over the database. A calc dir the user cannot write to
(``chmod 555 calc``, a colleague's folder, a read-only mount) would
otherwise be found only after every pset ran. The error says which folder,
whose it is, its mode, and the fix; a full disk stays a disk-space message.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pwd
import secrets
import shlex
import stat

from psweep._files import temp_name
from psweep.errors import StoreWriteError
from psweep._schema import JOURNAL_NEW_SUFFIX

__all__ = ["check_writable", "write_error", "write_fix"]

# Errors that are about rights, not space.
_PERMISSION = (errno.EACCES, errno.EPERM)


def check_writable(calc_dir: str, db_path: str, journal_dir: str) -> None:
    """Create (and remove) a file where the run will write; raise OSError if it cannot.

    A real file, not ``os.access``: that one misjudges ACLs, root-squashed
    NFS and read-only mounts. The probe files are named as the stale files
    a later fold removes (a database temp file, a journal being created),
    in case this process dies in between.

    Parameters
    ----------
    calc_dir
        The calc dir.
    db_path
        The database file in it (its folder gets the fold's temporary file).
    journal_dir
        The run's journal folder (made if missing, as the run would).

    Raises
    ------
    OSError
        As the operating system raised it (``PermissionError``, ``ENOSPC``,
        ``EROFS``), with the path; :func:`write_error` words it.
    """
    os.makedirs(journal_dir, exist_ok=True)
    probes = (temp_name(db_path), os.path.join(journal_dir, f"probe-{secrets.token_hex(4)}{JOURNAL_NEW_SUFFIX}"))
    for path in probes:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        # Named like a killed writer's leftover, so another process's fold
        # may have removed it already: gone is what we want.
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def write_error(calc_dir: str, exc: OSError, ran: str = "no pset was run") -> StoreWriteError:
    """The StoreWriteError for `exc`, raised by a write of a run in `calc_dir`.

    Parameters
    ----------
    calc_dir
        The calc dir, as given.
    exc
        The error of the write.
    ran
        What happened meanwhile, for the message.

    Returns
    -------
    StoreWriteError

    Examples
    --------
    >>> from psweep.store._access import write_error
    >>> str(write_error("calc", OSError(28, "No space left on device")))[:60]
    "psweep cannot write to calc_dir='calc' ([Errno 28] No space "
    """
    return StoreWriteError(
        f"psweep cannot write to calc_dir={calc_dir!r} ({exc}), so {ran} and the "
        f"database is unchanged. {write_fix(exc, calc_dir)}"
    )


def write_fix(exc: OSError, calc_dir: str | None = None) -> str:
    """What to do about the failed write `exc`: the folder, its owner and mode, or disk space.

    Parameters
    ----------
    exc
        The error.
    calc_dir
        The calc dir, to suggest making all of it writable when a file in it refused.

    Returns
    -------
    str
    """
    path = exc.filename if isinstance(exc.filename, str) else None
    if exc.errno == errno.EROFS:
        return (
            f"{_nearest(path) or 'The folder'!r} is on a read-only file system: copy the "
            f"calc dir to a writable place and pass that calc_dir, or remount it writable."
        )
    if exc.errno in _PERMISSION and path is not None:
        return _permission_fix(path, calc_dir)
    if exc.errno in _PERMISSION:
        return "Make the calc dir writable for you, or pass a calc_dir you can write to, and run again."
    return "Free disk space and run again."


def _permission_fix(path: str, calc_dir: str | None) -> str:
    """Name what refused `path` to this user: the file if it exists, else its folder."""
    target = path if os.path.lexists(path) else _nearest(os.path.dirname(path) or ".")
    kind = "folder" if os.path.isdir(target) else "file"
    relative = os.path.relpath(target)
    if not relative.startswith(os.pardir):
        target = relative  # as the user named it, e.g. 'calc
    user = _user_name(os.geteuid())
    try:
        st = os.stat(target)
    except OSError:
        return f"The user {user!r} may not write to {target!r}: make it writable, or pass another calc_dir."
    owner = _user_name(st.st_uid)
    mode = f"{stat.filemode(st.st_mode)} ({stat.S_IMODE(st.st_mode):o})"
    if st.st_uid != os.geteuid():
        fix = f"ask its owner {owner!r} to let you write to it (e.g. chmod g+w and a shared group)"
    elif kind == "folder" or calc_dir is None:
        fix = f"make it writable (chmod u+w {shlex.quote(target)})"
    else:
        fix = f"make the calc dir writable (chmod -R u+w {shlex.quote(calc_dir)})"
    refuses = "create files in it" if kind == "folder" else "write to it"
    return (
        f"The {kind} {target!r} (owner {owner!r}, mode {mode}) does not let the user "
        f"{user!r} {refuses}, which the run needs to store its rows. To run here, {fix}; "
        f"or pass a calc_dir you can write to."
    )


def _nearest(path: str | None) -> str | None:
    """`path`, or its nearest ancestor that exists."""
    if path is None:
        return None
    while path and not os.path.lexists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path or "."


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid without a name (containers)
        return str(uid)
