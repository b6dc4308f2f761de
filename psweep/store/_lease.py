"""The database lease: mutual exclusion between hosts that does not rest on ``flock``.

Where locks are node-local, the file lock keeps out only the processes of
one host. The lease adds a file, ``<calc_dir>/<database>.lease``,
created with ``O_CREAT | O_EXCL`` (atomic on local disks and on NFS v3 and
later): whoever created it holds it. It names its host and pid, and the
heartbeat refreshes its modification time while it is held
(:mod:`psweep.store._liveness`). A lease is broken only when its holder is
gone: on its own host when its pid does not exist, elsewhere when it has
not been refreshed for the liveness timeout. Breaking is rename, then
recheck: the lease is renamed to a name of the breaker's own, and only if
the renamed file is still the stale one (same inode, same time) is it
removed; otherwise (its holder refreshed it meanwhile) it is put back.
A process that may not create files in the folder (a read-only mount, no
write permission) holds the lease without a file: it cannot replace the
database there either, so it only reads.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets

from psweep.store._liveness import (
    fill_sign,
    liveness_timeout,
    pid_exists,
    read_sign,
    server_now,
    stop_keeping_alive,
    this_host,
)

__all__ = ["Lease"]


class Lease:
    """The lease file of one database, as one process holds it (or not).

    Parameters
    ----------
    path
        The lease file.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        # Held without a file: this process may not create files in the
        # folder, so it cannot replace the database there either.
        self._void = False

    def try_take(self) -> bool:
        """Take the lease if it is free or stale; whether this process holds it now."""
        if self.holds():
            return True
        if self._fd is not None:
            self.release()  # ours no more (broken while we were paused)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if not self._break_if_stale():
                    return False
                continue
            except FileNotFoundError:
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
                continue
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                    raise
                self._void = True  # a reader of a folder it cannot write
                return True
            fill_sign(fd)
            self._fd = fd
            return True
        return False

    def holds(self) -> bool:
        """Whether the file at the lease path is the one this process created."""
        if self._void:
            return True
        if self._fd is None:
            return False
        try:
            return os.path.samestat(os.fstat(self._fd), os.stat(self.path))
        except OSError:
            return False

    def release(self) -> None:
        """Give the lease up: remove its file if it is still ours."""
        fd, self._fd = self._fd, None
        self._void = False
        if fd is None:
            return
        stop_keeping_alive(fd)
        try:
            # Removed by name only while it is ours: another host breaks
            # it only after it went unrefreshed for the liveness timeout.
            if os.path.samestat(os.fstat(fd), os.stat(self.path)):
                os.remove(self.path)
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)

    def _break_if_stale(self) -> bool:
        """Remove the lease file if its holder is gone; whether it was removed."""
        try:
            before = os.stat(self.path)
        except FileNotFoundError:
            return True
        info = read_sign(self.path) or {}
        pid = info.get("pid")
        if info.get("host") == this_host() and isinstance(pid, int):
            stale = not pid_exists(pid) or _aged(self.path, before)
        else:
            stale = _aged(self.path, before)
        if not stale:
            return False
        aside = f"{self.path}.broken-{secrets.token_hex(4)}"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return True  # removed by its holder or another breaker
        try:
            now = os.stat(aside)
            if (now.st_ino, now.st_mtime_ns) != (before.st_ino, before.st_mtime_ns):
                # Refreshed, or another one: not ours to break. Put it back.
                _put_back(aside, self.path)
                return False
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(aside)


def _put_back(aside: str, path: str) -> None:
    """Return the lease renamed to `aside` to `path`, unless a new one is there."""
    try:
        os.link(aside, path)
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if not os.path.lexists(path):
            with contextlib.suppress(OSError):
                os.rename(aside, path)


def _aged(path: str, st: os.stat_result) -> bool:
    """Whether the lease `st` (of `path`) has not been refreshed for the liveness timeout."""
    return server_now(os.path.dirname(os.path.abspath(path))) - st.st_mtime > liveness_timeout()
