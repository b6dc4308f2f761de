"""Tests of psweep/rowbuffer.py: a run's pending rows held by column, framed as from_records would."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psweep as ps
import workers
from psweep.store._rows import rows_to_frame
from psweep.store._rowbuffer import RowBuffer


def _book(i):
    time = 1.7e9 + i / 1000
    return {"_run_id": "r", "_pset_id": f"id{i}", "_time_utc": time, "_failed": False, "_exc_txt": None}


CASES = {
    "ints": [{"a": i, "y": i * 2, **_book(i)} for i in range(5)],
    "floats and None": [{"a": i, "y": None if i % 2 else 1.5, **_book(i)} for i in range(5)],
    "all None": [{"a": i, "y": None, **_book(i)} for i in range(5)],
    "strings and None": [{"a": i, "s": "x" if i % 2 else None, **_book(i)} for i in range(5)],
    "nested values": [{"a": i, "s": [1, 2], "t": (1, 2), "n": np.arange(3), **_book(i)} for i in range(5)],
    "failed rows lack results": [
        {"a": i, "y": i, **_book(i)} if i % 2 else {"a": i, **_book(i), "_failed": True, "_exc_txt": "boom"}
        for i in range(6)
    ],
    "bool complex Timestamp bytes": [
        {"a": i, "b": True, "c": 1 + 2j, "d": pd.Timestamp("2020-01-01"), "e": b"x", **_book(i)} for i in range(5)
    ],
    "mixed types": [{"a": i, "m": [1, "x", 2.5, None, True][i], **_book(i)} for i in range(5)],
    "bools and None": [{"a": i, "b": True if i % 2 else None, **_book(i)} for i in range(5)],
    "numpy scalars": [{"a": i, "y": np.float32(1.0), "z": np.int8(3), **_book(i)} for i in range(5)],
    "new key later": [{"a": i, "y": i, **_book(i)} for i in range(3)] + [{"b": 1, "a": 9, **_book(9)}],
    "no time": [{"a": i, "_run_id": "r"} for i in range(3)],
    "int beyond 64 bits, int then float": [
        {"a": i, "y": 2**70 if i == 3000 else i, "f": 1 if i == 2500 else 0.5, **_book(i)} for i in range(5000)
    ],
    "floats then None": [{"a": i, "y": float(i), **_book(i)} for i in range(5000)]
    + [{"a": 1, "y": None, **_book(1)}],
    "int beyond 64 bits in the first batch": [
        {"a": i, "y": 2**64 if i == 5 else i, **_book(i)} for i in range(2100)
    ],
    "floats then a bool in a later batch": [
        {"a": i, "y": True if i == 2100 else 0.5, **_book(i)} for i in range(2500)
    ],
    "a str first, then ints": [{"a": i, "y": "s" if i == 0 else i, **_book(i)} for i in range(2500)],
    "many rows, one odd": [{"a": i, "y": 2 * i, **_book(i)} for i in range(5000)]
    + [{"a": 1, "z": "q", **_book(1)}]
    + [{"a": i, "y": 2 * i, **_book(i)} for i in range(300)],
}


@pytest.mark.parametrize("name", CASES)
def test_frame_is_the_one_from_records_makes(name):
    """The frame of a RowBuffer equals rows_to_frame of the same dicts: values, dtypes, columns, index."""
    rows = CASES[name]
    buffer = RowBuffer()
    for row in rows:
        buffer.append(dict(row))
    pd.testing.assert_frame_equal(rows_to_frame(buffer), rows_to_frame([dict(r) for r in rows]), check_exact=True)


def test_iterating_gives_the_rows_back_in_order():
    """Iterating a RowBuffer rebuilds the row dicts in the order they were added, key sets mixed."""
    rows = CASES["many rows, one odd"] + CASES["failed rows lack results"]
    buffer = RowBuffer()
    for row in rows:
        buffer.append(dict(row))
    assert len(buffer) == len(rows)
    assert list(buffer) == rows


def test_rows_added_after_a_frame_join_it():
    """Rows appended after to_frame() are added to the next frame (a fold that failed and is retried)."""
    rows = CASES["ints"]
    buffer = RowBuffer()
    for row in rows[:3]:
        buffer.append(dict(row))
    assert len(buffer.to_frame()) == 3
    for row in rows[3:]:
        buffer.append(dict(row))
    assert len(buffer) == 5
    pd.testing.assert_frame_equal(buffer.to_frame(), rows_to_frame([dict(r) for r in rows]))
    assert [row["a"] for row in buffer] == [0, 1, 2, 3, 4]
    assert buffer + [] is buffer
    assert [row["a"] for row in buffer + [{"a": 5}]] == [0, 1, 2, 3, 4, 5]


def test_run_with_failures_and_results_stores_the_same_database():
    """A run whose rows have different key sets (failures) stores each row with its values."""
    with pytest.warns(UserWarning, match="1 of 6 psets failed"):
        df = ps.run(workers.fail_on_3, ps.plist("x", range(6)))
    assert df["_failed"].tolist() == [False, False, False, True, False, False]
    # Ints with a gap (the failed row has no result): Int64, exact (issue 20, item 6).
    assert df["y"].tolist()[:3] == [0, 1, 4] and pd.isna(df["y"].iloc[3]) and df["y"].dtype == "Int64"
    pd.testing.assert_frame_equal(ps.df_read("calc/results.pk"), df)
