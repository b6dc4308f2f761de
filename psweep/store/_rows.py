"""Rows to frames: row dicts (or a run's :class:`~psweep.store._rowbuffer.RowBuffer`)
as a DataFrame, and new rows appended below a database.

Both the fold and the row buffer build frames here, so that the frame of a
run's rows is the same whichever way they were held.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from psweep.store._columns import concat_frames, exact_ints_from_rows, object_column
from psweep._schema import ENGINE_KEY_ORDER, ENGINE_KEYS

__all__ = ["rows_to_frame", "rows_to_frame_of_columns", "concat_rows"]


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
    to_frame = getattr(rows, "to_frame", None)
    if to_frame is not None:  # a RowBuffer, which imports this module
        return to_frame()
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
