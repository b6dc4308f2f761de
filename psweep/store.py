"""One calc dir's database: lock, journals, compaction, atomic writes.

This is the only module that touches the database file. The layout, for
``calc_dir="calc"`` and the default ``database_basename="results.pk"``::

    calc/results.pk                       the folded database (a pickled DataFrame)
    calc/results.pk.lock                  filelock guarding every change of it
    calc/.psweep/journal/results.pk/<_run_id>.jnl       rows of a run not yet folded
    calc/.psweep/journal/results.pk/<_run_id>.jnl.live  held locked while the run lives
    calc/.psweep/results.pk.counters.json  last _run_seq / _pset_seq handed out

A run appends each finished row to its own journal (one ``write`` per row,
O(1) whatever the database size), so a SIGKILL loses at most the pset in
flight. Folding ("compaction") takes the lock, reads the database and the
journals, writes the union to a temporary file in the same folder, and
``os.replace``s it over the database: the file is never torn. Journals are
removed only after the replace, and rows are de-duplicated by ``_pset_id``,
so a crash in between costs neither rows nor adds duplicates.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import struct
import tempfile
import threading
import warnings
import zlib
from collections.abc import Iterator
from typing import Any

import filelock
import pandas as pd

from psweep.errors import (
    DatabaseError,
    DatabaseNotFoundError,
    LockTimeoutError,
)

__all__ = ["Store", "Journal", "df_read", "df_write"]

# A journal record: magic, payload length, crc32 of the payload, payload
# (a pickled row dict). The magic lets a reader find the next record after a
# half-written one.
_MAGIC = b"PSJ1"
_HEADER = struct.Struct("<4sII")

# Journals owned by live runs of this process. flock() conflicts between two
# file descriptors of one process too, so probing our own journal's liveness
# lock would wrongly call it live-elsewhere (harmless) or, worse, a stale
# path could be mistaken; we never probe these.
_OWN_JOURNALS: set[str] = set()
_OWN_LOCK = threading.Lock()

DEFAULT_LOCK_TIMEOUT = 600.0

# The process umask, read once (os.umask can only be read by setting it).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


class Journal:
    """Append-only file of one run's finished rows.

    Parameters
    ----------
    path
        The journal file; created, and its ``.live`` lock taken, on open.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._live = filelock.FileLock(path + ".live", timeout=0)
        self._live.acquire()
        with _OWN_LOCK:
            _OWN_JOURNALS.add(os.path.abspath(path))
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._size = os.fstat(self._fd).st_size
        self.n_records = 0

    def append(self, row: dict[str, Any]) -> None:
        """Write one row; it survives a SIGKILL of this process once this returns.

        Parameters
        ----------
        row
            The row dict.

        Raises
        ------
        OSError
            If the write fails (e.g. disk full). The journal is cut back to
            its last whole record first, so it stays readable.
        """
        payload = pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)
        record = _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload)) + payload
        try:
            written = os.write(self._fd, record)
            if written != len(record):
                raise OSError(f"short write to journal {self.path}")
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise
        self._size += written
        self.n_records += 1

    def truncate(self) -> None:
        """Drop all records, after they were folded into the database."""
        os.ftruncate(self._fd, 0)
        self._size = 0
        self.n_records = 0

    def close(self, remove: bool) -> None:
        """Close the journal, release its liveness lock, optionally delete it.

        Parameters
        ----------
        remove
            Delete the journal file (its rows are folded).
        """
        os.close(self._fd)
        if remove:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path + ".live")
        self._live.release()
        with _OWN_LOCK:
            _OWN_JOURNALS.discard(os.path.abspath(self.path))


def read_journal(path: str, *, live: bool) -> list[dict[str, Any]]:
    """Read all whole records of a journal.

    A damaged record (a run killed in the middle of a write, a bad disk
    block) is skipped with a warning and reading goes on at the next record;
    an incomplete record at the end of a *live* run's journal is a write in
    progress and skipped silently.

    Parameters
    ----------
    path
        The journal file.
    live
        Whether its run is still running.

    Returns
    -------
    list of dict
        The rows.
    """
    try:
        with open(path, "rb") as fd:
            data = fd.read()
    except FileNotFoundError:
        return []
    rows = []
    pos = 0
    while pos < len(data):
        end = _record_end(data, pos)
        if end is not None:
            rows.append(pickle.loads(data[pos + _HEADER.size : end]))
            pos = end
            continue
        nxt = data.find(_MAGIC, pos + 1)
        if nxt == -1 and live:
            break
        stop = len(data) if nxt == -1 else nxt
        warnings.warn(
            f"psweep: skipped {stop - pos} bytes of a damaged record at "
            f"offset {pos} of journal {path} (a run killed while writing "
            f"it); the records after it are kept.",
            RuntimeWarning,
            stacklevel=2,
        )
        if nxt == -1:
            break
        pos = nxt
    return rows


def _record_end(data: bytes, pos: int) -> int | None:
    """End offset of a whole, intact record at `pos`, else None."""
    if len(data) - pos < _HEADER.size:
        return None
    magic, length, crc = _HEADER.unpack_from(data, pos)
    end = pos + _HEADER.size + length
    if magic != _MAGIC or end > len(data):
        return None
    if zlib.crc32(data[pos + _HEADER.size : end]) != crc:
        return None
    return end


def _read_pickle(path: str) -> pd.DataFrame:
    try:
        with open(path, "rb") as fd:
            df = pickle.load(fd)
    except FileNotFoundError as exc:
        raise DatabaseNotFoundError(
            f"no psweep database at {path!r}. Check the path, or run a study "
            f"first (ps.run / f.over) to create it."
        ) from exc
    except Exception as exc:
        raise DatabaseError(
            f"cannot read the database {path!r}: {type(exc).__name__}: {exc}. "
            f"The file was left unchanged. Restore it from a backup "
            f"(calc_<timestamp> folders from backup=True) or move it away to "
            f"start a new database."
        ) from exc
    if not isinstance(df, pd.DataFrame):
        raise DatabaseError(
            f"the database {path!r} holds a {type(df).__name__}, not a "
            f"pandas DataFrame. The file was left unchanged; move it away or "
            f"pass another database_basename."
        )
    return df


# The database this process wrote or read last, by path, with the file's
# stat signature: extending a study many times from one process then reads
# the file only when another process changed it. Callers always get a
# private copy (cheap under pandas' copy-on-write), so editing a returned
# frame never changes the cache.
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3 or bool(
    getattr(pd.options.mode, "copy_on_write", False) is True
)
_DB_CACHE: dict[str, tuple[tuple[int, ...], pd.DataFrame]] = {}


def _signature(path: str) -> tuple[int, ...]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _private(df: pd.DataFrame) -> pd.DataFrame:
    return df.copy(deep=not _COPY_ON_WRITE)


def _remember(path: str, df: pd.DataFrame) -> None:
    _DB_CACHE.clear()  # one database at most: bounded memory
    _DB_CACHE[os.path.abspath(path)] = (_signature(path), _private(df))


def _read_cached(path: str) -> pd.DataFrame:
    """The database at `path`, from the cache if the file is unchanged."""
    cached = _DB_CACHE.get(os.path.abspath(path))
    if cached is not None and cached[0] == _signature(path):
        return _private(cached[1])
    df = _read_pickle(path)
    _remember(path, df)
    return df


def _atomic_write(path: str, df: pd.DataFrame) -> None:
    """Pickle `df` to `path` through a temporary file and os.replace."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); give the database the mode
        # it had, or a new file's usual mode.
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_UMASK
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as fobj:
            pickle.dump(df, fobj, protocol=pickle.HIGHEST_PROTOCOL)
            fobj.flush()
            os.fsync(fobj.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _remember(path, df)


def rows_to_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """DataFrame of row dicts, indexed by their ``_time_utc``.

    Parameters
    ----------
    rows
        Row dicts as the run loop makes them.

    Returns
    -------
    pandas.DataFrame
        One row per dict; columns the union of keys, missing values NA.
    """
    df = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    if "_time_utc" in df.columns:
        times = df["_time_utc"]
        if not pd.api.types.is_datetime64_any_dtype(times):
            # Rows carry seconds since the epoch (UTC) until here.
            times = pd.to_datetime(times.astype("float64"), unit="s")
            df["_time_utc"] = times
        df.index = pd.DatetimeIndex(times.to_numpy(), name=None)
    return df


def concat_rows(df: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Append `new` below `df`, keeping natural dtypes where values agree.

    Parameters
    ----------
    df, new
        Frames to join; either may be empty.

    Returns
    -------
    pandas.DataFrame
        The rows of both; columns the union, missing values NA.
    """
    if len(new.columns) == 0:
        return df
    if len(df.columns) == 0:
        return new
    with warnings.catch_warnings():
        # pandas < 3 warns about all-NA columns changing dtype inference.
        warnings.simplefilter("ignore", FutureWarning)
        return pd.concat([df, new], sort=False)


class Store:
    """The database of one calc dir and the journals of its runs.

    Parameters
    ----------
    calc_dir
        The calculation directory.
    database_basename
        File name of the database inside `calc_dir`.
    lock_timeout
        Seconds to wait for the database lock before raising
        :class:`~psweep.errors.LockTimeoutError`.
    """

    def __init__(
        self,
        calc_dir: str,
        database_basename: str = "results.pk",
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self.calc_dir = calc_dir
        self.db_path = os.path.join(calc_dir, database_basename)
        self.lock_path = self.db_path + ".lock"
        self.journal_dir = os.path.join(calc_dir, ".psweep", "journal", database_basename)
        self.counters_path = os.path.join(calc_dir, ".psweep", database_basename + ".counters.json")
        self.lock_timeout = lock_timeout

    # -- locking -----------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the database lock.

        Parameters
        ----------
        timeout
            Seconds to wait; default the store's `lock_timeout`.

        Raises
        ------
        LockTimeoutError
            If another process holds the lock longer than that.
        """
        timeout = self.lock_timeout if timeout is None else timeout
        os.makedirs(self.calc_dir, exist_ok=True)
        lock = filelock.FileLock(self.lock_path, timeout=timeout)
        try:
            lock.acquire()
        except filelock.Timeout as exc:
            raise LockTimeoutError(
                f"could not take the lock {self.lock_path!r} within {timeout} s: "
                f"another psweep process is changing {self.db_path!r} (or "
                f"the lock is on a file system without working locks). Wait "
                f"for it to finish, or pass a larger lock_timeout=. A lock "
                f"held by a process that died is freed by the OS."
            ) from exc
        try:
            yield
        finally:
            lock.release()

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
        if not os.path.exists(self.db_path):
            return pd.DataFrame()
        return _read_cached(self.db_path)

    def _journal_paths(self) -> list[str]:
        try:
            names = os.listdir(self.journal_dir)
        except FileNotFoundError:
            return []
        return sorted(
            os.path.join(self.journal_dir, n) for n in names if n.endswith(".jnl")
        )

    def read(self) -> pd.DataFrame:
        """Every recorded row: the database plus all journals.

        Journals of dead runs are folded into the database if the lock can
        be had at once; otherwise (a writer is busy, a read-only copy) they
        are only read.

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        DatabaseNotFoundError
            If there is neither a database nor a journal.
        """
        if not self.exists():
            raise DatabaseNotFoundError(
                f"no psweep database at {self.db_path!r}. Check the path, or "
                f"run a study first (ps.run / f.over) to create it."
            )
        try:
            with self.locked(timeout=0):
                db = self.fold()
        except (LockTimeoutError, PermissionError):
            # A writer is busy, or this is a read-only copy: read only.
            db = self.read_db_file()
        return self.with_pending(db)

    def with_pending(self, db: pd.DataFrame) -> pd.DataFrame:
        """`db` plus the rows of all journals that are not in it.

        Parameters
        ----------
        db
            The database as read from the file.

        Returns
        -------
        pandas.DataFrame
        """
        rows: list[dict[str, Any]] = []
        for path in self._journal_paths():
            rows.extend(read_journal(path, live=self._journal_is_live(path)))
        return concat_rows(db, rows_to_frame(_new_rows(db, rows)))

    def journal_status(self) -> list[tuple[str, bool, int]]:
        """Journals beside the database: path, whether its run is live, rows.

        Returns
        -------
        list of tuple
        """
        status = []
        for path in self._journal_paths():
            live = self._journal_is_live(path)
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

    @staticmethod
    def _journal_is_live(path: str) -> bool:
        if os.path.abspath(path) in _OWN_JOURNALS:
            return True
        probe = filelock.FileLock(path + ".live", timeout=0)
        try:
            probe.acquire()
        except filelock.Timeout:
            return True
        probe.release()
        return False

    # -- writing -----------------------------------------------------------

    def fold(
        self, own: Journal | None = None, own_rows: list[dict[str, Any]] | None = None
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

        Returns
        -------
        pandas.DataFrame
            The database as written.
        """
        self._remove_stale_tempfiles()
        db = self.read_db_file()
        rows: list[dict[str, Any]] = []
        dead: list[tuple[str, filelock.BaseFileLock]] = []
        own_path = os.path.abspath(own.path) if own is not None else None
        if own_rows is not None:
            rows.extend(own_rows)
        for path in self._journal_paths():
            apath = os.path.abspath(path)
            if apath == own_path:
                if own_rows is None:
                    rows.extend(read_journal(path, live=True))
                continue
            if apath in _OWN_JOURNALS:
                continue
            probe = filelock.FileLock(path + ".live", timeout=0)
            try:
                probe.acquire()
            except filelock.Timeout:
                continue
            dead.append((path, probe))
            rows.extend(read_journal(path, live=False))
        try:
            new_rows = _new_rows(db, rows)
            if new_rows:
                db = concat_rows(db, rows_to_frame(new_rows))
                _atomic_write(self.db_path, db)
            if own is not None:
                own.truncate()
            for path, _ in dead:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path + ".live")
        finally:
            for _, probe in dead:
                probe.release()
        return db

    def _remove_stale_tempfiles(self) -> None:
        # Only a compaction writes these, and compactions hold the lock:
        # any present now was left by a process killed mid-write.
        folder = os.path.dirname(os.path.abspath(self.db_path))
        prefix = f".{os.path.basename(self.db_path)}."
        with contextlib.suppress(FileNotFoundError):
            for name in os.listdir(folder):
                if name.startswith(prefix) and name.endswith(".tmp"):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(os.path.join(folder, name))

    def write(self, df: pd.DataFrame) -> None:
        """Replace the database by `df`, atomically. Call with the lock held.

        Parameters
        ----------
        df
            The new database.
        """
        _atomic_write(self.db_path, df)

    def reserve_seqs(self, n_psets: int, db: pd.DataFrame | None) -> tuple[int, int]:
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

        Returns
        -------
        run_seq, first_pset_seq
        """
        counters = {"run_seq": -1, "pset_seq": -1}
        try:
            with open(self.counters_path) as fd:
                counters.update(json.load(fd))
        except (FileNotFoundError, ValueError):
            if db is None:
                db = self.with_pending(self.read_db_file())
            for col, key in (("_run_seq", "run_seq"), ("_pset_seq", "pset_seq")):
                if col in db.columns and db[col].notna().any():
                    counters[key] = max(counters[key], int(db[col].max()))
        run_seq = counters["run_seq"] + 1
        first = counters["pset_seq"] + 1
        counters = {"run_seq": run_seq, "pset_seq": first + n_psets - 1}
        os.makedirs(os.path.dirname(self.counters_path), exist_ok=True)
        tmp = f"{self.counters_path}.{os.getpid()}.tmp"
        with open(tmp, "w") as fd:
            json.dump(counters, fd)
        os.replace(tmp, self.counters_path)
        return run_seq, first

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


def _new_rows(db: pd.DataFrame, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose ``_pset_id`` is neither in `db` nor earlier in `rows`."""
    if not rows:
        return []
    seen = set(db["_pset_id"].tolist()) if "_pset_id" in db.columns else set()
    fresh = []
    for row in rows:
        pset_id = row.get("_pset_id")
        if pset_id in seen:
            continue
        seen.add(pset_id)
        fresh.append(row)
    return fresh


def df_read(path: str) -> pd.DataFrame:
    """Read a psweep database, including rows not yet folded into it.

    Rows that finished in runs still going, or in runs that were killed,
    sit in journals beside the database; they are part of the result (and
    folded into the file when its lock is free).

    Parameters
    ----------
    path
        The database file, e.g. ``"calc/results.pk"``.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DatabaseNotFoundError
        If there is no database (also a ``FileNotFoundError``).
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
    """
    calc_dir, basename = os.path.split(path)
    return Store(calc_dir or ".", basename).read()


def df_write(path: str, df: pd.DataFrame) -> None:
    """Write `df` as a pickled database, atomically and under its lock.

    Parameters
    ----------
    path
        Target file, e.g. ``"calc/results.pk"``; folders are created.
    df
        The DataFrame.

    Raises
    ------
    LockTimeoutError
        If another process holds the database lock too long.

    Examples
    --------
    >>> import pandas as pd, psweep as ps
    >>> ps.df_write("calc/results.pk", pd.DataFrame({"a": [1]}))  # doctest: +SKIP
    """
    calc_dir, basename = os.path.split(path)
    store = Store(calc_dir or ".", basename)
    with store.locked():
        store.write(df)

