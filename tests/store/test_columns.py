"""Tests of psweep/columns.py: ints stay exact ints in the database (issue 20, items 6 and 11)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import psweep as ps
import workers
from psweep.store._legacy016 import upgrade_016_frame
from psweep.store._rows import rows_to_frame
from psweep.store._rowbuffer import RowBuffer

BIG = 2**60 + 1  # float64 would round it to 2**60


def seeded(pset):
    """A pset's own seed (a big int) as its result, when it has one."""
    return {"seed_copy": pset["seed"]} if "seed" in pset else {}


SEEDS = [{"a": 1, "seed": BIG}, {"a": 2}, {"a": 3, "seed": BIG + 2}]


@pytest.mark.parametrize("options", [{}, {"save": False}, {"poolsize": 2}])
def test_big_int_parameter_that_some_psets_lack_is_stored_exactly(options):
    """An int above 2**53 in a column with gaps (a seed some psets lack) is kept exactly, as an int:
    Int64 with NA, in the returned frame, through ps.df_read and through plain pd.read_pickle."""
    df = ps.run(seeded, SEEDS, **options)
    frames = [df]
    if options.get("save", True):
        frames += [ps.df_read("calc"), pd.read_pickle("calc/results.pk")]
    for frame in frames:
        for col in ("seed", "seed_copy"):
            assert str(frame[col].dtype) == "Int64", col
            assert frame[col].tolist()[0] == BIG and frame[col].tolist()[2] == BIG + 2
            assert pd.isna(frame[col].iloc[1])
    assert df[df.seed == BIG]["a"].tolist() == [1]
    assert df.groupby("seed").size().tolist() == [1, 1]
    assert df["seed"].astype(float).isna().tolist() == [False, True, False]


def test_ints_with_gaps_come_back_as_python_ints_and_hash_as_stored():
    """df_extract_params(py_types=True) gives 1001, not 1001.0, for an int parameter whose column
    has gaps, and the extracted psets hash like the rows (examples/vary_function_param.py)."""
    ps.run(workers.square, [{"x": 1}, {"x": 3}])
    df = ps.run(workers.square, [{"x": 2, "n": 1001}])  # a later run adds a parameter
    assert str(df["n"].dtype) == "Int64"
    for py_types in (True, False):
        params = ps.df_extract_params(ps.df_read("calc"), py_types=py_types)
        assert params == [{"x": 1}, {"x": 3}, {"x": 2, "n": 1001}]
        assert [ps.pset_hash(p) for p in params] == df["_pset_hash"].tolist()
    assert type(ps.df_extract_params(df, py_types=True)[2]["n"]) is int


def test_ints_beside_floats_are_float_and_ints_beyond_64_bits_are_objects():
    """The rule is about ints only: ints and floats in one column give float64; ints beyond int64
    with gaps stay exact as objects; bools with gaps stay objects."""
    df = ps.run(workers.square, [{"x": 1, "v": 1}, {"x": 2, "v": 2.5}, {"x": 3, "w": 2**70}, {"x": 4, "w": None}])
    assert df["v"].dtype == np.float64
    assert df["w"].dtype == object and df["w"].iloc[2] == 2**70


def _rows(keys_values):
    return [{"a": i, **kv, "_pset_id": f"id{i}", "_time_utc": 1.7e9 + i} for i, kv in enumerate(keys_values)]


@pytest.mark.parametrize(
    "rows",
    [
        _rows([{"s": BIG}, {}, {"s": 3}]),
        _rows([{"s": BIG}, {"s": None}, {"s": np.nan}, {"s": pd.NA}, {"s": np.int64(4)}]),
        _rows([{"s": BIG + i} for i in range(3000)] + [{}]),
    ],
    ids=["key missing", "None NaN NA numpy", "many rows then a gap"],
)
def test_row_buffer_and_row_list_make_the_same_exact_int_columns(rows):
    """The run loop's RowBuffer and rows_to_frame of dicts (journals) give the same Int64 column."""
    buffer = RowBuffer()
    for row in rows:
        buffer.append(dict(row))
    from_list = rows_to_frame([dict(row) for row in rows])
    pd.testing.assert_frame_equal(buffer.to_frame(), from_list)
    assert str(from_list["s"].dtype) == "Int64" and from_list["s"].iloc[0] == BIG


def test_extending_keeps_ints_exact_beside_older_float_and_int_columns():
    """A new run's big ints stay exact when the database's column is float64 of whole numbers (older
    psweep stored ints with gaps so), and an int column stays exact when new psets lack it."""
    old = ps.run(workers.square, [{"x": 1, "seed": 5}, {"x": 2}])
    old["seed"] = old["seed"].astype(float)  # as older versions stored it
    ps.df_write("calc/results.pk", old)
    df = ps.run(workers.square, [{"x": 3, "seed": BIG}])
    assert str(df["seed"].dtype) == "Int64" and df["seed"].tolist()[0] == 5 and df["seed"].iloc[2] == BIG
    df = ps.run(workers.square, [{"x": 4}], calc_dir="other")
    df = ps.run(workers.square, [{"x": 5, "seed": BIG}], calc_dir="other")
    df = ps.run(workers.square, [{"x": 6}], calc_dir="other")
    assert str(df["seed"].dtype) == "Int64" and df["seed"].iloc[1] == BIG
    df = ps.run(workers.square, [{"x": 7, "seed": 0.5}], calc_dir="other")
    assert df["seed"].dtype == np.float64  # a float joined: a column of floats


def test_int_column_and_a_run_lacking_it_keep_the_ints():
    """A database whose int column has no gaps (int64) joined by psets without that key: Int64, exact."""
    ps.run(workers.square, [{"x": 1, "seed": BIG}])
    df = ps.run(workers.square, [{"x": 2}])
    assert str(df["seed"].dtype) == "Int64" and df["seed"].iloc[0] == BIG and pd.isna(df["seed"].iloc[1])
    assert str(ps.df_read("calc")["seed"].dtype) == "Int64"


def test_016_numeric_columns_filled_with_na_become_numeric():
    """A psweep 0.16 database (all object) whose numeric columns 0.16 filled with pd.NA is continued
    with numeric columns: floats float64 (NaN), ints with gaps Int64; astype(float) works."""
    old = pd.DataFrame(
        {
            "a": [1, 2, 3],
            "b": [0.5, pd.NA, 1.5],
            "n": [BIG, pd.NA, 7],
            "name": ["x", pd.NA, "z"],
            "_pset_id": ["p0", "p1", "p2"],
            "_run_id": ["r", "r", "r"],
            "_pset_seq": [0, 1, 2],
            "_run_seq": [0, 0, 0],
            "_time_utc": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03"]),
        },
        dtype=object,
    )
    new = upgrade_016_frame(old)
    assert new["b"].dtype == np.float64 and new["b"].isna().tolist() == [False, True, False]
    assert new["b"].astype(float).tolist()[0] == 0.5
    assert str(new["n"].dtype) == "Int64" and new["n"].iloc[0] == BIG
    assert new["a"].dtype == np.int64 and new["_pset_seq"].dtype == np.int64
    assert new["name"].iloc[1] is pd.NA  # not numbers: kept as 0.16 stored them
    os.makedirs("calc")
    old.to_pickle("calc/database.pk")
    with pytest.warns(UserWarning, match="database.pk"):
        df = ps.run(workers.square, [{"x": 1}], calc_dir="calc")
    assert df["b"].astype(float).isna().sum() == 2


# What pandas makes of a column of str: "str" from pandas 3 on, "object" before.
STR_DTYPE = str(pd.Series(["x"]).dtype)


@pytest.mark.parametrize(
    "values, dtype",
    [
        (["x", 1, 2], "object"),
        ([True, 1, 2], "object"),
        ([1, None, 3], "Int64"),
        ([1, "x", None], "object"),
        ([None, np.nan, 5], "Int64"),
        ([np.nan, "x", None], STR_DTYPE),
        ([None, None], "object"),
        ([1.5, None], "float64"),
    ],
)
def test_object_column_judges_ints_by_the_first_value_that_is_not_missing(values, dtype):
    """object_column makes Int64 only of ints and missing values, whatever the first value's
    type (the first value decides quickly when it is a str, bool or int)."""
    from psweep.store._columns import object_column

    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    assert str(object_column(arr).dtype) == dtype
