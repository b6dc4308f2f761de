"""One calc dir's database: a thin face over its lock, fold, counters and readers.

:class:`Store` is the only door to the database; the work happens in
:mod:`psweep.store._lock` (the lock, and a deleted lock file),
:mod:`psweep.store._fold` (journals into the file, atomically),
:mod:`psweep.store._counters` (``_run_seq``/``_pset_seq``),
:mod:`psweep.store._reading` (reading without the lock), over the paths of
:mod:`psweep.store._layout`, the journal format of
:mod:`psweep.store._journal` and the file of :mod:`psweep.store._dbfile`.

A run appends each finished row to its own journal (one ``write`` per row,
O(1) whatever the database size), so a SIGKILL loses at most the pset in
flight; folds move journals into the database under the lock, and readers
without the lock read the journals before the database file, so they never
go backwards.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pandas as pd

from psweep._schema import DEFAULT_LOCK_TIMEOUT
from psweep.errors import LockTimeoutError
from psweep.store import _reading
from psweep.store._calcdir import database_name
from psweep.store._counters import reserve_seqs
from psweep.store._dbfile import check_readable, write_database
from psweep.store._fold import fold
from psweep.store._journal import Journal
from psweep.store._layout import Layout
from psweep.store._legacy016 import not_found_error
from psweep.store._liveness import liveness_timeout
from psweep.store._lock import DatabaseLock

__all__ = ["Store"]


class Store:
    """The database of one calc dir and the journals of its runs.

    Parameters
    ----------
    calc_dir
        The calculation directory.
    database_basename
        File name of the database inside `calc_dir`; default: the one it
        holds (:func:`psweep.store._calcdir.database_name`).
    lock_timeout
        Seconds to wait for the database lock before raising
        :class:`~psweep.errors.LockTimeoutError`.
    """

    def __init__(
        self,
        calc_dir: str,
        database_basename: str | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self.layout = Layout.of(calc_dir, database_name(calc_dir, database_basename))
        self.calc_dir = calc_dir
        self.db_path = self.layout.db_path
        self.lock_path = self.layout.lock_path
        self.journal_dir = self.layout.journal_dir
        self.counters_path = self.layout.counters_path
        self.quarantine_dir = self.layout.quarantine_dir
        self.lock_timeout = lock_timeout
        liveness_timeout()  # a bad PSWEEP_LIVENESS_TIMEOUT is an error here, before any work
        # One lock object per store: a run takes the lock twice.
        self._lock = DatabaseLock(self.lock_path, self.db_path, self.layout.lease_path)

    # -- locking -----------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the database lock.

        The lock is a file lock on ``<database>.lock``. When that file is
        deleted or replaced (``rm calc/*.lock``, ``git clean -X``), a
        second process can lock the new file while this one holds the old:
        the lock is then checked after taking it and around each change of
        the database, and taken again when lost (see :meth:`fold`).

        Parameters
        ----------
        timeout
            Seconds to wait; default the store's `lock_timeout`.

        Raises
        ------
        LockTimeoutError
            If another process holds the lock longer than that.
        """
        os.makedirs(self.calc_dir, exist_ok=True)
        self._lock.acquire(self.lock_timeout if timeout is None else timeout)
        try:
            yield
        finally:
            self._lock.release()

    def holds_lock(self) -> bool:
        """Whether the lock this store holds is on the file at the lock path.

        False after someone deleted or replaced the lock file: another
        process may hold a lock on the new file at the same time.

        Returns
        -------
        bool
        """
        return self._lock.holds()

    def lock_is_free(self) -> bool:
        """Whether nobody holds the database lock right now.

        Returns
        -------
        bool
        """
        try:
            with self.locked(timeout=0):
                return True
        except LockTimeoutError:
            return False

    # -- reading -----------------------------------------------------------

    def exists(self) -> bool:
        """Whether the database or any journal holds rows.

        Returns
        -------
        bool
        """
        return os.path.exists(self.db_path) or bool(self.layout.journal_paths())

    def read_db_file(self) -> pd.DataFrame:
        """The folded database only; empty if the file does not exist.

        Returns
        -------
        pandas.DataFrame
        """
        return _reading.read_db_file(self.db_path)

    def read(self) -> pd.DataFrame:
        """Every recorded row: the database plus all journals.

        Journals of dead runs are folded into the database if the lock can
        be had at once; otherwise (a writer is busy, a read-only or full
        disk) they are only read. Reads never go backwards: while rows are
        only added, each read has every row an earlier read had.

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        DatabaseNotFoundError
            If there is neither a database nor a journal.
        """
        if not self.exists():
            raise not_found_error(self.calc_dir, os.path.basename(self.db_path))
        if not os.path.exists(self.lock_path):
            # A file psweep never locked (a copied database, or not a
            # database at all): the lock file is made only once it reads.
            check_readable(self.db_path)
        try:
            with self.locked(timeout=0):
                return self.with_pending(self.fold())
        except OSError:
            # A writer is busy (LockTimeoutError), or the lock or the fold
            # cannot write here (read-only copy or mount, full disk): read
            # only. A failed fold left the database and journals as they were.
            return self.with_pending()

    def with_pending(self, db: pd.DataFrame | None = None, *, cache: bool = True) -> pd.DataFrame:
        """The database plus the rows of all journals that are not in it.

        Parameters
        ----------
        db
            The database as this process last folded it, if at hand; used
            only if the file is still that one, else the file is read.
        cache
            False: the file is read past this process's read cache, which
            keeps no copy of it (for a reader that holds the frame itself,
            ``psweep ui``).

        Returns
        -------
        pandas.DataFrame

        Notes
        -----
        No lock is needed: the journals are read first and then the
        database, so a fold landing in between moves rows from the journals
        into a file still to be read, and none goes missing.
        """
        return _reading.with_pending(self.layout, db, cache=cache)

    def journal_status(self) -> list[tuple[str, bool, int]]:
        """Journals beside the database: path, whether its run is live, rows.

        Returns
        -------
        list of tuple
        """
        return _reading.journal_status(self.layout)

    def quarantined(self) -> list[str]:
        """Journals set aside because records in them could not be read.

        Their readable rows are in the database; the files keep all rows,
        for reading where the missing classes can be imported.

        Returns
        -------
        list of str
        """
        return _reading.quarantined(self.layout)

    # -- writing -----------------------------------------------------------

    def fold(
        self,
        own: Journal | None = None,
        own_rows: list[dict[str, Any]] | None = None,
        own_rows_unseen: bool = False,
    ) -> pd.DataFrame:
        """Fold journals into the database. Call with the lock held.

        Folds `own` (this run's journal, then emptied) and the journals of
        runs that died; leaves journals of other live runs alone.

        Parameters
        ----------
        own
            The calling run's journal, if any.
        own_rows
            The rows of `own` as the caller holds them (saves reading the
            journal back); may include rows the journal could not take.
        own_rows_unseen
            No fold has taken `own_rows` before (not even one that failed
            after writing), so they need no check for rows already stored.

        Returns
        -------
        pandas.DataFrame
            The database as written.
        """
        return fold(self.layout, self._lock, self.lock_timeout, own, own_rows, own_rows_unseen)

    def write(self, df: pd.DataFrame) -> None:
        """Replace the database by `df`, atomically. Call with the lock held.

        Parameters
        ----------
        df
            The new database.
        """
        write_database(self.db_path, df, self._keep_lock)

    def _keep_lock(self) -> bool:
        """Take the lock again if its file was deleted or replaced; True."""
        self._lock.keep(self.lock_timeout)
        return True

    def reserve_seqs(
        self, n_psets: int, db: pd.DataFrame | None, at_least: tuple[int, int] = (0, 0)
    ) -> tuple[int, int]:
        """Hand out a ``_run_seq`` and a block of `n_psets` ``_pset_seq``.

        Call with the lock held. Numbers are unique among all runs of this
        database, including runs whose rows are not folded yet.

        Parameters
        ----------
        n_psets
            How many pset numbers the run needs.
        db
            The database if already read, used when the counters file is
            missing (databases of older psweep versions).
        at_least
            Lowest ``_run_seq`` and first ``_pset_seq`` to hand out (after
            rows that ``run(df=...)`` brought in).

        Returns
        -------
        run_seq, first_pset_seq
        """

        def rows() -> pd.DataFrame | None:
            if db is None and self.exists():
                return self.with_pending()
            return db

        return reserve_seqs(self.counters_path, n_psets, rows, at_least)

    def open_journal(self, run_id: str) -> Journal:
        """Start the journal of run `run_id`.

        Parameters
        ----------
        run_id
            The run's ``_run_id``.

        Returns
        -------
        Journal
        """
        return Journal(self.layout.journal_path(run_id))
