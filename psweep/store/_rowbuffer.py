"""Rows waiting to be folded, held by column instead of as dicts.

A run keeps its rows in memory until they are folded into the database
(the fold then needs not read its journal back). As dicts, a row of a
trivial pset costs ~0.5 KB; here it costs a pointer per value (plus the
values), grouped by the rows' key sets, which is ~0.1 KB for the same row.
The frame built from the buffer is the same as :func:`psweep.store._rows.rows_to_frame`
of the dicts: each column goes through the same conversion (``from_records``'
own, with ints that have gaps as ``Int64``, see :mod:`psweep.store._columns`), and a
key a row lacks is NaN, as ``from_records`` fills it.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from operator import countOf as _count_of
from typing import Any

import numpy as np
import pandas as pd

from psweep.store._rows import concat_rows, rows_to_frame_of_columns

__all__ = ["RowBuffer"]

# Rows are first kept as value tuples and moved into the columns in
# batches of this many (one C-level transpose instead of a Python loop
# per value). Fewer than the 700 new objects after which Python's garbage
# collector runs (gc.get_threshold()): a batch of tuples waiting would
# otherwise set off a collection every ~700 rows (~4% of a run of
# trivial psets), each looking at every tuple.
_BATCH = 512
# A column whose values are all floats (or all ints) is kept as a C array:
# 8 bytes a value instead of a pointer and a 24-32 byte object. Bools are
# not ints here (type() is bool), so they stay objects, as pandas sees them.
_TYPECODES = {float: "d", int: "q"}
_DTYPES = {"d": np.float64, "q": np.int64}


def _packed(values: Any, code: str) -> bytes:
    """`values`, all of the type whose typecode is `code`, as the bytes of that C
    array: numpy converts them several times faster than ``array`` (which parses
    each value as a call argument). An int beyond 64 bits raises OverflowError."""
    return np.fromiter(values, _DTYPES[code], len(values)).tobytes()


class _Segment:
    """The rows of one key tuple: their values by column, and their places."""

    __slots__ = ("keys", "columns", "batch", "batch_positions", "positions")

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys
        self.columns: list[Any] = [[] for _ in keys]  # a list or an array each
        self.batch: list[tuple[Any, ...]] = []
        self.batch_positions: list[int] = []  # the rows' places, of the batch
        self.positions = array("q")  # of the rows spilled

    def spill(self) -> None:
        if not self.batch:
            return
        self.positions.frombytes(_packed(self.batch_positions, "q"))
        self.batch_positions = []
        columns = self.columns
        for i, values in enumerate(zip(*self.batch)):
            column = columns[i]
            # One type of _TYPECODES throughout? Only then are all types looked at
            # (counted, not collected in a set: cheaper per value).
            first = type(values[0])
            code = _TYPECODES.get(first)
            if code is not None and _count_of(map(type, values), first) != len(values):
                code = None
            if type(column) is array and column.typecode != code:
                column = columns[i] = column.tolist()  # no longer one type
            if type(column) is array:
                try:
                    column.frombytes(_packed(values, code))  # type: ignore[arg-type]
                    continue
                except OverflowError:  # an int beyond 64 bits
                    column = columns[i] = column.tolist()
            elif code is not None and not column:
                try:
                    columns[i] = array(code, _packed(values, code))
                    continue
                except OverflowError:
                    pass
            column.extend(values)
        self.batch = []


class RowBuffer:
    """Row dicts of one run, in order, stored compactly.

    Behaves as a sequence of row dicts for the rare callers that iterate
    it (each row rebuilt on the fly); :meth:`to_frame` builds the frame
    from the columns directly and keeps it, dropping the columns, so that
    the rows are held once while the database is written.

    Examples
    --------
    >>> from psweep.store._rowbuffer import RowBuffer
    >>> rows = RowBuffer()
    >>> rows.append({"a": 1, "y": 2.0})
    >>> rows.append({"a": 2})
    >>> len(rows), list(rows)[1]
    (2, {'a': 2})
    >>> rows.to_frame()["y"].tolist()
    [2.0, nan]
    """

    def __init__(self) -> None:
        self._segments: dict[tuple[str, ...], _Segment] = {}
        self._last: _Segment | None = None
        self._n = 0
        # The frame of the rows added before the last to_frame().
        self._frame: pd.DataFrame | None = None
        self._n_framed = 0

    def append(self, row: dict[str, Any]) -> None:
        """Add one row dict (its values are kept, the dict is not)."""
        self.add(tuple(row), tuple(row.values()))

    def add(self, keys: tuple[str, ...], values: tuple[Any, ...]) -> None:
        """Add one row given as its keys and values (what :meth:`Journal.append` returns)."""
        segment = self._last
        if segment is None or segment.keys is not keys and segment.keys != keys:
            segment = self._segments.get(keys)
            if segment is None:
                segment = self._segments[keys] = _Segment(keys)
            self._last = segment
        segment.batch.append(values)
        segment.batch_positions.append(self._n)
        self._n += 1
        if len(segment.batch) >= _BATCH:
            segment.spill()

    def __len__(self) -> int:
        return self._n_framed + self._n

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._frame is not None:
            yield from _frame_rows(self._frame)
        for segment in self._segments.values():
            segment.spill()
        order = sorted(
            (position, segment, index)
            for segment in self._segments.values()
            for index, position in enumerate(segment.positions)
        )
        for _, segment, index in order:
            yield {key: column[index] for key, column in zip(segment.keys, segment.columns)}

    def __add__(self, other: list[dict[str, Any]]) -> RowBuffer | list[dict[str, Any]]:
        # The fold joins a run's rows with those of dead runs' journals
        # (rare): as plain dicts then.
        return self if not other else list(self) + list(other)

    def to_frame(self) -> pd.DataFrame:
        """The rows as one DataFrame (as ``rows_to_frame`` of the dicts).

        Returns
        -------
        pandas.DataFrame
        """
        if self._n:
            new = rows_to_frame_of_columns(self._key_order(), self._column, self._n)
            self._segments, self._last = {}, None
            self._n_framed += self._n
            self._n = 0
            self._frame = new if self._frame is None else concat_rows(self._frame, new)
        return self._frame if self._frame is not None else pd.DataFrame()

    def _key_order(self) -> list[str]:
        """The union of the rows' keys, in first-seen order."""
        for segment in self._segments.values():
            segment.spill()
        segments = sorted(self._segments.values(), key=lambda s: s.positions[0])
        return list(dict.fromkeys(key for segment in segments for key in segment.keys))

    def _column(self, key: str) -> np.ndarray:
        """`key`'s values over all rows, NaN where missing: an object array,
        or float64/int64 when all rows have `key` and all values are floats
        (ints), as pandas would infer."""
        segments = list(self._segments.values())
        if len(segments) == 1:  # the usual case: all rows have the same keys
            segment = segments[0]
            segment.spill()
            values = segment.columns[segment.keys.index(key)]
            if type(values) is array:
                return np.frombuffer(values, dtype=values.typecode)
            # Each value one element, a list too; cheaper than out[:] = values,
            # which looks into each value for a shape.
            return np.fromiter(values, dtype=object, count=len(values))
        out = np.full(self._n, np.nan, dtype=object)
        for segment in segments:
            if key in segment.keys:
                segment.spill()
                values = np.empty(len(segment.positions), dtype=object)
                values[:] = segment.columns[segment.keys.index(key)]
                out[np.frombuffer(segment.positions, dtype=np.int64)] = values
        return out


def _frame_rows(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """Row dicts back from a frame the buffer built (seconds for ``_time_utc``)."""
    for record in frame.to_dict("records"):
        stamp = record.get("_time_utc")
        if isinstance(stamp, pd.Timestamp):
            record["_time_utc"] = stamp.value / 1e9
        yield record
