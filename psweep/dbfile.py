"""The database file: reading, atomic writing, and turning rows into frames."""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pandas.core.internals.construction import convert_object_array  # from_records' own conversion

from psweep.errors import DatabaseError, DatabaseNotFoundError
from psweep.rowbuffer import RowBuffer
from psweep.worker import ENGINE_KEY_ORDER, ENGINE_KEYS

__all__ = ["read_database", "write_database", "rows_to_frame", "rows_to_frame_of_columns", "concat_rows"]

# The process umask, read once (os.umask can only be read by setting it).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


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


def read_database(path: str) -> pd.DataFrame:
    """The database at `path`, from this process's cache if the file is unchanged.

    Parameters
    ----------
    path
        The database file; it must exist.

    Returns
    -------
    pandas.DataFrame
        A frame the caller may change freely.

    Raises
    ------
    DatabaseError
        If the file is not a pickled DataFrame (the file is left as is).
    """
    cached = _DB_CACHE.get(os.path.abspath(path))
    if cached is not None and cached[0] == _signature(path):
        return _private(cached[1])
    df = _read_pickle(path)
    _remember(path, df)
    return df


# Columns of distinct strings (``_pset_id``, ``_pset_hash``) are most of
# the time of pickling a big database: pickle writes and memoizes each
# string (~0.6 us each). Such a column is pickled as one text instead, which
# builtins and numpy turn back into the same object array on load, so the
# file is still a plain pickle that pandas alone reads (no psweep needed).
# Columns of repeated strings (``_run_id``) keep pickle's memo, which
# stores each distinct string once and shares it after loading.
_JOINED_MIN_ROWS = 1000
_SEPARATOR = "\0"


class _SplitText:
    """Pickles as ``text.split(separator)``: a list of the strings."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __reduce__(self) -> tuple[Any, ...]:
        return (str.split, (self.text, _SEPARATOR))


class _DatabasePickler(pickle.Pickler):
    """A pickler that writes columns of distinct strings as one text."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is not np.ndarray or obj.dtype != object or obj.ndim != 1 or len(obj) < _JOINED_MIN_ROWS:
            return NotImplemented
        values = obj.tolist()
        # Mostly distinct (judged on a sample) and all exact str.
        if len(set(values[:_JOINED_MIN_ROWS])) < 0.9 * _JOINED_MIN_ROWS or set(map(type, values)) != {str}:
            return NotImplemented
        text = _SEPARATOR.join(values)
        if text.count(_SEPARATOR) != len(values) - 1:  # a string holds the separator
            return NotImplemented
        return (np.array, (_SplitText(text), object))


def write_database(path: str, df: pd.DataFrame) -> None:
    """Pickle `df` to `path` through a temporary file and ``os.replace``.

    The file is never torn: readers see the old or the new database. Call
    with the database lock held.

    Parameters
    ----------
    path
        The database file.
    df
        The database.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    # The cached old database is about to be stale: freed now, its columns
    # do not sit beside the new ones while pickling (a big study's peak).
    _DB_CACHE.clear()
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
            _DatabasePickler(fobj, protocol=pickle.HIGHEST_PROTOCOL).dump(df)
            fobj.flush()
            os.fsync(fobj.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _remember(path, df)


def rows_to_frame(rows: Any) -> pd.DataFrame:
    """DataFrame of row dicts, indexed by their ``_time_utc``.

    Parameters
    ----------
    rows
        Row dicts as the run loop makes them: a list, or a
        :class:`~psweep.rowbuffer.RowBuffer` (which builds it by column).

    Returns
    -------
    pandas.DataFrame
        One row per dict; columns the union of keys, missing values NA.
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
    df = pd.DataFrame.from_records(rows, columns=columns)
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
            data[key] = convert_object_array([values], dtype=None)[0]
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


