"""The database lock: a file lock on ``<database>.lock`` that notices a deleted lock file.

When the lock file is deleted or replaced (``rm calc/*.lock``, ``git clean
-X``), a second process can lock the new file while this one holds the old.
:class:`DatabaseLock` therefore checks, after taking the lock, that its file
is the one at the lock path (same device and inode), and takes the lock
again when it is not; :meth:`DatabaseLock.keep` does the same around each
change of the database (see :mod:`psweep.store._fold`).

Where ``flock`` is seen only on the host that took it (cluster mounts with
node-local locks), the file lock keeps out only the processes of one host:
the holder of the file lock then also takes the database's lease
(:mod:`psweep.store._lease`), which excludes other hosts whatever the
mount's lock semantics. The file lock comes first, so that processes of one
host queue on it and only one of them at a time polls the lease.
"""

from __future__ import annotations

import os
import time

import filelock

from psweep.errors import LockTimeoutError
from psweep.store._lease import Lease

__all__ = ["DatabaseLock"]


class DatabaseLock:
    """The file lock of one database.

    Parameters
    ----------
    lock_path
        The lock file, ``<database>.lock``.
    db_path
        The database it guards (named in the timeout's message).
    lease_path
        The lease file that excludes other hosts; None: the file lock only.
    """

    def __init__(self, lock_path: str, db_path: str, lease_path: str | None = None) -> None:
        self.lock_path = lock_path
        self.db_path = db_path
        self._lease = None if lease_path is None else Lease(lease_path)
        self._depth = 0  # nested holds of this object
        # Made on first use: a run takes the lock twice, and making a
        # filelock object costs about as much as a round trip of the lock.
        self._lock: filelock.FileLock | None = None

    def acquire(self, timeout: float) -> None:
        """Take the lock on the file that is at the lock path now, and the lease.

        Parameters
        ----------
        timeout
            Seconds to wait.

        Raises
        ------
        LockTimeoutError
            If another process holds the lock longer than `timeout`.
        """
        deadline = time.monotonic() + timeout
        self._take_file_lock(deadline, timeout)
        if self._depth == 0 and self._lease is not None:
            try:
                self._take_lease(deadline, timeout)
            except BaseException:
                self._lock.release()  # type: ignore[union-attr]
                raise
        self._depth += 1

    def _take_file_lock(self, deadline: float, timeout: float) -> None:
        """Take the file lock (once more, if held), by `deadline` (monotonic)."""
        if self._lock is None:
            self._lock = filelock.FileLock(self.lock_path)
        lock = self._lock
        while True:
            try:
                lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
            except FileNotFoundError:
                # filelock opens an existing lock file without O_CREAT: one
                # deleted between its check and its open is not there. Anew.
                if not os.path.isdir(os.path.dirname(self.lock_path) or "."):
                    raise
                continue
            except filelock.Timeout as exc:
                raise self._timeout_error(timeout, self.lock_path) from exc
            if self._file_lock_holds():
                return
            # The file was deleted or replaced between its opening and the
            # flock: the lock guards nothing; take the one now there.
            lock.release(force=True)

    def _take_lease(self, deadline: float, timeout: float) -> None:
        """Take the lease (another host may hold it), by `deadline` (monotonic)."""
        assert self._lease is not None
        pause = 0.005
        while not self._lease.try_take():
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._timeout_error(timeout, self._lease.path)
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.2)

    def _timeout_error(self, timeout: float, path: str) -> LockTimeoutError:
        return LockTimeoutError(
            f"could not take the lock {path!r} within {timeout} s: "
            f"another psweep process is changing {self.db_path!r} (or "
            f"the lock is on a file system without working locks). Wait "
            f"for it to finish, or pass a larger lock_timeout=. A lock "
            f"held by a process that died is freed by the OS, a lease "
            f"({os.path.basename(path)}) of a dead process of this host at "
            f"once, one of another host after PSWEEP_LIVENESS_TIMEOUT seconds."
        )

    def release(self) -> None:
        """Give up one hold of the lock (nested holds are counted)."""
        if self._depth == 0:
            return
        self._depth -= 1
        try:
            if self._depth == 0 and self._lease is not None:
                self._lease.release()
        finally:
            if self._lock is not None:
                self._lock.release()

    def holds(self) -> bool:
        """Whether this process holds the lock on the file at the lock path, and the lease.

        False after someone deleted or replaced the lock file (another
        process may hold a lock on the new file at the same time), or after
        another host broke the lease of a process that was paused too long.

        Returns
        -------
        bool
        """
        return self._file_lock_holds() and (self._lease is None or self._lease.holds())

    def _file_lock_holds(self) -> bool:
        lock = self._lock
        fd = getattr(getattr(lock, "_context", None), "lock_file_fd", None)
        if lock is None or not lock.is_locked:
            return False
        if fd is None:  # a filelock without this detail: trust it
            return True
        try:
            return os.path.samestat(os.fstat(fd), os.stat(self.lock_path))
        except FileNotFoundError:
            return False

    def keep(self, timeout: float) -> None:
        """Take the lock again if its file was deleted or replaced meanwhile.

        Waits (up to `timeout`) for a process that locked the new file; the
        caller then checks whether its change still stands.

        Parameters
        ----------
        timeout
            Seconds to wait for the lock.
        """
        if self.holds():
            return
        assert self._lock is not None
        deadline = time.monotonic() + timeout
        if not self._file_lock_holds():
            self._lock.release(force=True)
            self._take_file_lock(deadline, timeout)
        if self._lease is not None and not self._lease.holds():
            self._lease.release()  # ours no more: let go of its file
            self._take_lease(deadline, timeout)
