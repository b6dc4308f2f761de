"""The database file: reading, atomic writing, and turning rows into frames."""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from psweep.store._columns import concat_frames, exact_ints_from_rows, object_column
from psweep.store._dbformat import header_of, read_header, restore, same_versions, write_frame
from psweep.store._problems import load_error
from psweep.errors import DatabaseError, DatabaseNotFoundError
from psweep.store._rowbuffer import RowBuffer
from psweep._files import write_atomic
from psweep._schema import ENGINE_KEY_ORDER, ENGINE_KEYS

__all__ = [
    "read_database",
    "check_readable",
    "is_unchanged",
    "signature",
    "write_database",
    "rows_to_frame",
    "rows_to_frame_of_columns",
    "concat_rows",
]



Signature = tuple[int, ...]


def _signature_of(st: os.stat_result) -> Signature:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def signature(path: str) -> Signature | None:
    """What identifies the current content of the file `path`; None if missing.

    Every write replaces the database by a new file, so a changed file has
    another signature (inode, size and times).

    Parameters
    ----------
    path
        The database file.

    Returns
    -------
    tuple of int or None
    """
    try:
        return _signature_of(os.stat(path))
    except FileNotFoundError:
        return None


def _read_pickle(path: str) -> tuple[pd.DataFrame, Signature]:
    try:
        with open(path, "rb") as fd:
            # The signature of the file opened, not of whatever the path
            # names after the load: a writer may replace it meanwhile.
            sig = _signature_of(os.fstat(fd.fileno()))
            header = read_header(fd)
            fd.seek(0)
            df = pickle.load(fd)
    except FileNotFoundError as exc:
        raise DatabaseNotFoundError(
            f"no psweep database at {path!r}. Check the path, or run a study "
            f"first (ps.run / f.over) to create it."
        ) from exc
    except Exception as exc:
        raise load_error(path, exc) from exc
    if not isinstance(df, pd.DataFrame):
        raise DatabaseError(
            f"the database {path!r} is damaged: it holds a {type(df).__name__}, "
            f"not a pandas DataFrame. The file was left unchanged; restore it "
            f"from a backup, or move it away or pass another database_basename."
        )
    return restore(df, header), sig


def check_readable(path: str) -> None:
    """Raise now if this process cannot read the database at `path` (before a run).

    Cheap when the file was written under this process's pandas and numpy
    (its header says so) and ends as a pickle does: then only its first
    and last bytes are read. Otherwise the database is read (and kept for
    the run's fold, see :func:`read_database`).

    Parameters
    ----------
    path
        The database file; a missing one is fine (a first run).

    Raises
    ------
    DatabaseVersionError
        If it was written under pandas/numpy versions whose pickles this
        process cannot rebuild; the message names them and the fix.
    DatabaseError
        If it cannot be read for another reason.
    """
    if not os.path.isfile(path) or (same_versions(header_of(path)) and _ends_like_a_pickle(path)):
        return
    with contextlib.suppress(DatabaseNotFoundError):
        read_database(path)


def _ends_like_a_pickle(path: str) -> bool:
    """Whether the file's last byte is pickle's STOP (a cut-off file's is usually not)."""
    try:
        with open(path, "rb") as fd:
            fd.seek(-1, os.SEEK_END)
            return fd.read(1) == b"."
    except OSError:
        return False


# The database this process wrote or read last, by path, with the file's
# signature: extending a study many times from one process then reads
# the file only when another process changed it. Callers always get a
# private copy (cheap under pandas' copy-on-write), so editing a returned
# frame never changes the cache.
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3 or bool(
    getattr(pd.options.mode, "copy_on_write", False) is True
)
_DB_CACHE: dict[str, tuple[Signature, pd.DataFrame]] = {}


def _private(df: pd.DataFrame) -> pd.DataFrame:
    return df.copy(deep=not _COPY_ON_WRITE)


def _remember(path: str, sig: Signature, df: pd.DataFrame) -> None:
    _DB_CACHE.clear()  # one database at most: bounded memory
    _DB_CACHE[os.path.abspath(path)] = (sig, _private(df))


def is_unchanged(path: str) -> bool:
    """Whether the file `path` is still the database this process last read or wrote.

    Parameters
    ----------
    path
        The database file.

    Returns
    -------
    bool
    """
    cached = _DB_CACHE.get(os.path.abspath(path))
    return cached is not None and cached[0] == signature(path)


def read_database(path: str) -> tuple[pd.DataFrame, Signature]:
    """The database at `path`, from this process's cache if the file is unchanged.

    Parameters
    ----------
    path
        The database file; it must exist.

    Returns
    -------
    df : pandas.DataFrame
        A frame the caller may change freely.
    signature : tuple of int
        The :func:`signature` of the file `df` was read from.

    Raises
    ------
    DatabaseError
        If the file is not a pickled DataFrame (the file is left as is).
    """
    cached = _DB_CACHE.get(os.path.abspath(path))
    if cached is not None and cached[0] == signature(path):
        return _private(cached[1]), cached[0]
    df, sig = _read_pickle(path)
    _remember(path, sig, df)
    return df, sig


def write_database(
    path: str, df: pd.DataFrame, may_replace: Callable[[], bool] | None = None
) -> bool:
    """Pickle `df` to `path` through a temporary file and ``os.replace``.

    The file is never torn: readers see the old or the new database. Call
    with the database lock held. The temporary file is locked (``flock``)
    while it is written, so that a cleanup of files left by killed writers
    can tell them from one being written.

    Parameters
    ----------
    path
        The database file.
    df
        The database.
    may_replace
        Called right before the replace, when the new file is complete:
        False leaves the database as it is (the caller found that another
        process changed it meanwhile).

    Returns
    -------
    bool
        Whether the database was replaced.
    """
    # The cached old database is about to be stale: freed now, its columns
    # do not sit beside the new ones while pickling (a big study's peak).
    _DB_CACHE.clear()
    written = write_atomic(path, lambda fobj: write_frame(fobj, df), may_replace=may_replace)
    if not written.replaced:
        return False
    sig = _signature_of(written.stat)
    _remember(path, sig, df)
    return True


def rows_to_frame(rows: Any) -> pd.DataFrame:
    """DataFrame of row dicts, indexed by their ``_time_utc``.

    Parameters
    ----------
    rows
        Row dicts as the run loop makes them: a list, or a
        :class:`~psweep.store._rowbuffer.RowBuffer` (which builds it by column).

    Returns
    -------
    pandas.DataFrame
        One row per dict; columns the union of keys, missing values NA;
        dtypes as ``from_records`` infers them, except that ints with
        missing values are ``Int64`` (exact; see :mod:`psweep.store._columns`).
    """
    if isinstance(rows, RowBuffer):
        return rows.to_frame()
    if not rows:
        return pd.DataFrame()
    # Columns: the union of keys in first-seen order (see _column_order).
    # Usually all rows have the first row's keys, which one set union (in
    # C) shows.
    keys = rows[0].keys()
    if len(set().union(*rows)) != len(keys):
        union = dict.fromkeys(keys)
        for row in rows:
            union.update(dict.fromkeys(row))
        keys = union.keys()
    columns = _column_order(keys)
    df = exact_ints_from_rows(pd.DataFrame.from_records(rows, columns=columns), rows)
    if "_time_utc" in keys:
        _set_times(df, columns, _datetimes([row.get("_time_utc") for row in rows]))
    return df


def rows_to_frame_of_columns(keys: list[str], column: Callable[[str], np.ndarray], n_rows: int) -> pd.DataFrame:
    """The frame :func:`rows_to_frame` makes, from the rows' values by column.

    Parameters
    ----------
    keys
        The union of the rows' keys, in first-seen order.
    column
        ``column(key)``: object array of that key's values, NaN where a row
        lacks it (as ``from_records`` fills it); or a float64 / int64 array
        when every value is a float / an int.
    n_rows
        Number of rows.

    Returns
    -------
    pandas.DataFrame
    """
    columns = _column_order(keys)
    data = {}
    times = None
    for key in columns:
        # One column at a time: only one object array exists beside the
        # converted columns. The conversion is from_records' own.
        values = column(key)
        if key == "_time_utc":
            times = _datetimes(values)
            data[key] = times
        elif values.dtype != object:  # all floats (ints): what inference gives
            data[key] = values
        else:
            data[key] = object_column(values)
        del values
    df = pd.DataFrame(data, columns=columns, index=pd.RangeIndex(n_rows), copy=False)
    if times is not None:
        _set_times(df, columns, times)
    return df


def _column_order(keys: Any) -> list[str]:
    """The psets' own keys and results first, then the bookkeeping (rows
    carry bookkeeping keys first); naming the columns up front spares
    pandas a reindexing copy."""
    columns = [k for k in keys if k not in ENGINE_KEYS]
    columns += [k for k in ENGINE_KEY_ORDER if k in keys]
    return columns


def _set_times(df: pd.DataFrame, columns: list[str], times: Any) -> None:
    df.isetitem(columns.index("_time_utc"), times)
    df.index = pd.DatetimeIndex(times, name=None, copy=True)


def _datetimes(values: Any) -> Any:
    """``_time_utc`` values (one per row) as datetime64[ns].

    Rows carry seconds since the epoch (UTC) until here: numpy converts
    them ~100x faster than pd.to_datetime, straight from the rows. Other
    values (Timestamps of older journals) go through pandas.
    """
    try:
        seconds = np.array(values, dtype="float64")
    except (TypeError, ValueError):
        stamps = [pd.Timestamp(v, unit="s") if isinstance(v, (int, float)) else pd.Timestamp(v) for v in values]
        return pd.DatetimeIndex(stamps).to_numpy(dtype="datetime64[ns]")
    finite = np.isfinite(seconds)
    seconds = np.where(finite, seconds, 0.0)
    # Whole seconds and the fraction apart: their product with 1e9 in one
    # float would round away ~100 ns.
    whole = np.floor(seconds)
    nanoseconds = whole.astype("int64") * 1_000_000_000 + np.round((seconds - whole) * 1e9).astype("int64")
    nanoseconds = nanoseconds.view("datetime64[ns]")
    if not finite.all():  # a missing time
        nanoseconds[~finite] = np.datetime64("NaT", "ns")
    return nanoseconds


def concat_rows(df: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Append `new` below `df`, keeping natural dtypes where values agree.

    Int columns stay exact (see :func:`psweep.store._columns.concat_frames`).

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
    return concat_frames(df, new)
