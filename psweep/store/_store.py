"""One calc dir's database: lock, journals, compaction.

This module (with its helpers :mod:`psweep.store._journal` for the journal format
and :mod:`psweep.store._dbfile` for reading and atomically writing the file) is
the only place that touches the database. The layout, for
``calc_dir="calc"`` and the default ``database_basename="results.pk"``::

    calc/results.pk                       the folded database (a pickled DataFrame)
    calc/results.pk.lock                  filelock guarding every change of it
    calc/.psweep/journal/results.pk/<_run_id>.jnl  rows of a run not yet folded,
                                                   locked (flock) while the run lives
    calc/.psweep/results.pk.counters.json  last _run_seq / _pset_seq handed out
    calc/.psweep/quarantine/results.pk/    journals of dead runs with unreadable
                                           records, set aside whole

A run appends each finished row to its own journal (one ``write`` per row,
O(1) whatever the database size), so a SIGKILL loses at most the pset in
flight. Folding ("compaction") takes the lock, reads the database and the
journals, writes the union to a temporary file in the same folder, and
``os.replace``s it over the database: the file is never torn. Journals are
removed only after the replace, and rows are de-duplicated by ``_pset_id``,
so a crash in between costs neither rows nor adds duplicates.

Against a deleted or replaced lock file (two processes then hold locks on
different files), the lock is checked after taking it and right before
the replace (same device and inode at the lock path, else taken again),
and the replace happens only if the database file is still the one the
fold read (its signature), else the fold starts anew. Readers without the
lock read the journals before the database file, so they never go
backwards.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import zlib
from collections.abc import Iterator
from typing import Any

import filelock
import pandas as pd

from psweep.store._calcdir import database_name, resolve_database
from psweep.store._legacy016 import not_found_error, upgrade_016_frame
from psweep.store._dbfile import (
    Signature,
    check_readable,
    is_unchanged,
    read_database,
    signature,
    write_database,
)
from psweep.store._rows import concat_rows, rows_to_frame
from psweep._files import is_locked, is_temp_of, remove_if_unlocked
from psweep.errors import DatabaseNotFoundError, LockTimeoutError
from psweep.store._jsoncopy import read_json, write_json
from psweep.store._journal import NEW_SUFFIX, Journal, journal_is_live, read_journal
from psweep.store._rowsort import frame_in_seq_order, runs_in_seq_order
from psweep._schema import DEFAULT_LOCK_TIMEOUT, LOCK_SUFFIX, counters_path, journal_dir, quarantine_dir

__all__ = ["Store", "df_read", "df_write"]

# Seconds after which an unlocked journal under its temporary name is left
# over from a process that died while creating it.
STALE_NEW_JOURNAL_AGE = 60.0


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
        self.calc_dir = calc_dir
        database_basename = database_name(calc_dir, database_basename)
        self.db_path = os.path.join(calc_dir, database_basename)
        self.lock_path = self.db_path + LOCK_SUFFIX
        self.journal_dir = journal_dir(calc_dir, database_basename)
        self.counters_path = counters_path(calc_dir, database_basename)
        self.quarantine_dir = quarantine_dir(calc_dir, database_basename)
        self.lock_timeout = lock_timeout
        # One lock object per store, made on first use: a run takes the lock
        # twice, and making a filelock object costs about as much as a
        # round trip of the lock.
        self._lock: filelock.FileLock | None = None

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
        self._acquire(self.lock_timeout if timeout is None else timeout)
        try:
            yield
        finally:
            if self._lock is not None:
                self._lock.release()

    def _acquire(self, timeout: float) -> None:
        """Take the lock on the file that is at the lock path now."""
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
            if self.holds_lock():
                return
            # The file was deleted or replaced between its opening and the
            # flock: the lock guards nothing; take the one now there.
            lock.release(force=True)

    def holds_lock(self) -> bool:
        """Whether the lock this store holds is on the file at the lock path.

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

    def _retake_lock(self) -> None:
        """Take the lock again after losing it; the caller then redoes its change."""
        assert self._lock is not None
        self._lock.release(force=True)
        self._acquire(self.lock_timeout)

    # -- reading -----------------------------------------------------------

    def exists(self) -> bool:
        """Whether the database or any journal holds rows.

        Returns
        -------
        bool
        """
        return os.path.exists(self.db_path) or bool(self._journal_paths())

    def read_db_file(self) -> pd.DataFrame:
        """The folded database only; empty if the file does not exist.

        Returns
        -------
        pandas.DataFrame
        """
        db, _ = self._db_file_or_none()
        return pd.DataFrame() if db is None else db

    def _db_file_or_none(self) -> tuple[pd.DataFrame | None, Signature | None]:
        # None for a missing file: a first run's fold builds no empty frame.
        # A psweep 0.16 file is read in our format (written so on the next fold).
        try:
            db, sig = read_database(self.db_path)
        except DatabaseNotFoundError:
            return None, None
        return upgrade_016_frame(db), sig

    def _journal_paths(self) -> list[str]:
        return sorted(
            os.path.join(self.journal_dir, n) for n in _listdir(self.journal_dir) if n.endswith(".jnl")
        )

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

    def with_pending(self, db: pd.DataFrame | None = None) -> pd.DataFrame:
        """The database plus the rows of all journals that are not in it.

        Parameters
        ----------
        db
            The database as this process last folded it, if at hand; used
            only if the file is still that one, else the file is read.

        Returns
        -------
        pandas.DataFrame

        Notes
        -----
        No lock is needed: the journals are read first and then the
        database, so a fold landing in between moves rows from the journals
        into a file still to be read, and none goes missing.
        """
        rows: list[dict[str, Any]] = []
        for path in self._journal_paths():
            rows.extend(read_journal(path, live=journal_is_live(path)))
        if db is None or not is_unchanged(self.db_path):
            db = self.read_db_file()
        new_rows = _new_rows(db, rows)
        return concat_rows(db, rows_to_frame(new_rows)) if new_rows else db

    def journal_status(self) -> list[tuple[str, bool, int]]:
        """Journals beside the database: path, whether its run is live, rows.

        Returns
        -------
        list of tuple
        """
        status = []
        for path in self._journal_paths():
            live = journal_is_live(path)
            status.append((path, live, len(read_journal(path, live=live))))
        return status

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
        self._remove_stale_tempfiles()
        while True:
            done = self._fold_once(own, own_rows, own_rows_unseen)
            if done is not None:
                break
            # Another process changed the database meanwhile (possible only
            # when the lock file was deleted): fold anew from its new state.
            own_rows_unseen = False
        db, dead = done
        if own is not None:
            own.truncate()
        for path, readable in dead:
            if readable:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
            else:
                self._quarantine(path)
        return pd.DataFrame() if db is None else db

    def _quarantine(self, path: str) -> None:
        """Move a dead run's journal with unreadable records out of the way, kept."""
        os.makedirs(self.quarantine_dir, exist_ok=True)
        target = os.path.join(self.quarantine_dir, os.path.basename(path))
        while os.path.lexists(target):
            target += "~"
        with contextlib.suppress(FileNotFoundError):
            os.rename(path, target)

    def quarantined(self) -> list[str]:
        """Journals set aside because records in them could not be read.

        Their readable rows are in the database; the files keep all rows,
        for reading where the missing classes can be imported.

        Returns
        -------
        list of str
        """
        return sorted(os.path.join(self.quarantine_dir, n) for n in _listdir(self.quarantine_dir))

    def _fold_once(
        self, own: Journal | None, own_rows: list[dict[str, Any]] | None, own_rows_unseen: bool
    ) -> tuple[pd.DataFrame | None, list[tuple[str, bool]]] | None:
        """Write the database plus the journals' new rows.

        Returns the database and the dead journals read (with whether all
        their records were readable), or None if the database changed
        between its reading and the replace.
        """
        db, db_signature = self._db_file_or_none()
        rows: list[dict[str, Any]] = []
        dead: list[tuple[str, bool]] = []
        own_path = os.path.abspath(own.path) if own is not None else None
        if own_rows is not None and not own_rows_unseen:
            rows.extend(own_rows)
        for path in self._journal_paths():
            if os.path.abspath(path) == own_path:
                if own_rows is None:
                    rows.extend(read_journal(path, live=True))
                continue
            # Folding happens under the database lock, so nobody else
            # folds or removes this dead journal meanwhile.
            if journal_is_live(path):
                continue
            unreadable: list[str] = []
            rows.extend(read_journal(path, live=False, unreadable=unreadable))
            dead.append((path, not unreadable))
        new_rows = _new_rows(db, rows)
        if own_rows and own_rows_unseen:
            new_rows = own_rows + new_rows
        if new_rows:
            new = frame_in_seq_order(rows_to_frame(new_rows))
            db = new if db is None else runs_in_seq_order(concat_rows(db, new), len(new))
            if not write_database(self.db_path, db, lambda: self._may_replace(db_signature)):
                return None
        return db, dead

    def _may_replace(self, read_signature: Signature | None) -> bool:
        """Whether a fold that read the database at `read_signature` may replace it.

        Right before the replace: if the lock file was deleted or replaced
        meanwhile, take the lock again (waiting for a process that locked
        the new file); then the fold's result stands only if nobody
        changed the database since it was read.
        """
        if not self.holds_lock():
            self._retake_lock()
        return signature(self.db_path) == read_signature

    def _remove_stale_tempfiles(self) -> None:
        # Database temp files are written under the lock and locked while
        # written: an unlocked one was left by a process killed mid-write.
        # Only this database's (not those of results.pk.v2 beside it).
        # A journal still under its temporary name is empty; unlocked and
        # not brand-new (its process may be between creating and locking
        # it), its process died while creating it.
        folder = os.path.dirname(os.path.abspath(self.db_path))
        for name in _listdir(folder):
            if is_temp_of(self.db_path, name):
                remove_if_unlocked(os.path.join(folder, name))
        stale = [
            path
            for path in (os.path.join(self.journal_dir, name) for name in _listdir(self.journal_dir))
            if path.endswith(NEW_SUFFIX) and _age(path) > STALE_NEW_JOURNAL_AGE and not is_locked(path)
        ]
        for path in stale:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)

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
        if not self.holds_lock():
            self._retake_lock()
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
        fd = os.open(self._counters_file(), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            # Locked on its own as well: two processes may both believe
            # they hold the database lock when its file was deleted.
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = os.read(fd, 4096)
            counters = _parse_counters(data)
            if counters is None:  # new, or damaged: rebuild from the rows
                counters = {"run_seq": -1, "pset_seq": -1}
                if db is None and self.exists():
                    db = self.with_pending()
                for col, key in (("_run_seq", "run_seq"), ("_pset_seq", "pset_seq")):
                    if db is not None and col in db.columns and db[col].notna().any():
                        counters[key] = int(db[col].max())
            run_seq = max(counters["run_seq"] + 1, at_least[0])
            first = max(counters["pset_seq"] + 1, at_least[1])
            # Rewritten in place, one small write, under the lock: much
            # cheaper than a temp file and rename. A write torn by a power
            # cut fails the check and the counters are rebuilt.
            text = _format_counters(run_seq, first + n_psets - 1)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, text)
            if len(data) > len(text):  # a damaged, longer file
                os.ftruncate(fd, len(text))
        finally:
            os.close(fd)
        return run_seq, first

    def _counters_file(self) -> str:
        os.makedirs(os.path.dirname(self.counters_path), exist_ok=True)
        return self.counters_path

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
        return Journal(os.path.join(self.journal_dir, f"{run_id}.jnl"))


def _age(path: str) -> float:
    """Seconds since `path` was last modified (0 if it is gone)."""
    try:
        return time.time() - os.stat(path).st_mtime
    except FileNotFoundError:
        return 0.0


def _listdir(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


# The counters file: JSON padded to a fixed size, so that each rewrite in
# place covers the previous text, with a check value of the numbers.
_COUNTERS_SIZE = 96


def _counters_check(run_seq: int, pset_seq: int) -> int:
    return zlib.crc32(f"{run_seq} {pset_seq}".encode())


def _format_counters(run_seq: int, pset_seq: int) -> bytes:
    text = json.dumps(
        {"run_seq": run_seq, "pset_seq": pset_seq, "check": _counters_check(run_seq, pset_seq)}
    )
    return text.encode().ljust(_COUNTERS_SIZE)


def _parse_counters(data: bytes) -> dict[str, int] | None:
    """The counters in `data`, or None if missing or damaged."""
    try:
        counters = json.loads(data)
        run_seq, pset_seq = int(counters["run_seq"]), int(counters["pset_seq"])
        check = counters["check"]
    except (ValueError, KeyError, TypeError):
        return None
    if check != _counters_check(run_seq, pset_seq):
        return None
    return {"run_seq": run_seq, "pset_seq": pset_seq}


def _new_rows(db: pd.DataFrame | None, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose ``_pset_id`` is neither in `db` (if any) nor earlier in `rows`."""
    if not rows:
        return []
    seen = set(db["_pset_id"].tolist()) if db is not None and "_pset_id" in db.columns else set()
    ids = [row.get("_pset_id") for row in rows]
    unique = set(ids)
    if len(unique) == len(ids) and unique.isdisjoint(seen):
        return rows  # the usual case, checked in C
    fresh = []
    for row in rows:
        pset_id = row.get("_pset_id")
        if pset_id in seen:
            continue
        seen.add(pset_id)
        fresh.append(row)
    return fresh


def df_read(path: str, fmt: str = "pickle", **kwds: Any) -> pd.DataFrame:
    """Read a psweep database, including rows not yet folded into it.

    Rows that finished in runs still going, or in runs that were killed,
    sit in journals beside the database; they are part of the result (and
    folded into the file when its lock is free).

    Parameters
    ----------
    path
        The database file, e.g. ``"calc/results.pk"``, or a calc dir (its
        ``results.pk``, or psweep 0.16's ``database.pk`` if it holds only
        that one).
    fmt
        ``"pickle"`` (a database) or ``"json"`` (a file from
        ``df_write(..., fmt="json")``, read with
        :func:`psweep.store._jsoncopy.read_json`).
    **kwds
        For ``fmt="json"``: ``orient=`` and other :func:`pandas.read_json`
        options.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DatabaseNotFoundError
        If there is no database (also a ``FileNotFoundError``); the message
        says what is at `path` instead.
    DatabaseError
        If the file is not a pickled DataFrame; it is left unchanged.

    Notes
    -----
    Unpickling runs code: only read databases you or your team wrote. Use
    CSV/JSON exports to share results.

    Examples
    --------
    >>> import psweep as ps
    >>> df = ps.df_read("calc/results.pk")  # doctest: +SKIP
    >>> import pandas as pd
    >>> ps.df_write("db.json", pd.DataFrame({"a": [1, 2]}), fmt="json", orient="split")
    >>> ps.df_read("db.json", fmt="json", orient="split").a.tolist()
    [1, 2]
    >>> df = ps.df_read("calc")  # a calc dir: the same as "calc/results.pk"  # doctest: +SKIP
    """
    if _is_json(fmt, kwds):
        return read_json(path, **kwds)
    return Store(*resolve_database(path, reading=True)).read()


def df_write(path: str, df: pd.DataFrame, fmt: str = "pickle", **kwds: Any) -> None:
    """Write `df` as a pickled database, atomically and under its lock.

    Parameters
    ----------
    path
        Target file, e.g. ``"calc/results.pk"``; folders are created. An
        existing calc dir means its database, as for :func:`df_read`.
    df
        The DataFrame.
    fmt
        ``"pickle"``, or ``"json"`` for a text copy (atomic, no lock;
        :func:`psweep.df_to_json`).
    **kwds
        For ``fmt="json"``: ``orient=`` and other
        :func:`psweep.df_to_json` options.

    Raises
    ------
    LockTimeoutError
        If another process holds the database lock too long.

    Examples
    --------
    >>> import pandas as pd, psweep as ps
    >>> ps.df_write("calc/results.pk", pd.DataFrame({"a": [1]}))  # doctest: +SKIP
    """
    if _is_json(fmt, kwds):
        write_json(path, df, **kwds)
        return
    store = Store(*resolve_database(path))
    with store.locked():
        store.write(df)


def _is_json(fmt: str, kwds: dict[str, Any]) -> bool:
    """Whether df_read/df_write handle JSON; checks fmt and its options."""
    if fmt == "json":
        return True
    if fmt != "pickle":
        raise ValueError(f"fmt={fmt!r}: use 'pickle' (the database) or 'json'.")
    if kwds:
        raise TypeError(f"options {sorted(kwds)} are for fmt='json'; a pickled database takes none.")
    return False
