"""The database lock: a file lock on ``<database>.lock`` that notices a deleted lock file.

When the lock file is deleted or replaced (``rm calc/*.lock``, ``git clean
-X``), a second process can lock the new file while this one holds the old.
:class:`DatabaseLock` therefore checks, after taking the lock, that its file
is the one at the lock path (same device and inode), and takes the lock
again when it is not; :meth:`DatabaseLock.keep` does the same around each
change of the database (see :mod:`psweep.store._fold`).
"""

from __future__ import annotations

import os
import time

import filelock

from psweep.errors import LockTimeoutError

__all__ = ["DatabaseLock"]


class DatabaseLock:
    """The file lock of one database.

    Parameters
    ----------
    lock_path
        The lock file, ``<database>.lock``.
    db_path
        The database it guards (named in the timeout's message).
    """

    def __init__(self, lock_path: str, db_path: str) -> None:
        self.lock_path = lock_path
        self.db_path = db_path
        # Made on first use: a run takes the lock twice, and making a
        # filelock object costs about as much as a round trip of the lock.
        self._lock: filelock.FileLock | None = None

    def acquire(self, timeout: float) -> None:
        """Take the lock on the file that is at the lock path now.

        Parameters
        ----------
        timeout
            Seconds to wait.

        Raises
        ------
        LockTimeoutError
            If another process holds the lock longer than `timeout`.
        """
        if self._lock is None:
            self._lock = filelock.FileLock(self.lock_path)
        lock = self._lock
        deadline = time.monotonic() + timeout
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
                raise LockTimeoutError(
                    f"could not take the lock {self.lock_path!r} within {timeout} s: "
                    f"another psweep process is changing {self.db_path!r} (or "
                    f"the lock is on a file system without working locks). Wait "
                    f"for it to finish, or pass a larger lock_timeout=. A lock "
                    f"held by a process that died is freed by the OS."
                ) from exc
            if self.holds():
                return
            # The file was deleted or replaced between its opening and the
            # flock: the lock guards nothing; take the one now there.
            lock.release(force=True)

    def release(self) -> None:
        """Give up one hold of the lock (filelock counts nested holds)."""
        if self._lock is not None:
            self._lock.release()

    def holds(self) -> bool:
        """Whether this process holds the lock on the file at the lock path.

        False after someone deleted or replaced the lock file: another
        process may hold a lock on the new file at the same time.

        Returns
        -------
        bool
        """
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
        self._lock.release(force=True)
        self.acquire(timeout)
