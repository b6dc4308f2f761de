"""Tests of psweep/frames.py, frames_edit.py and frames_io.py: 0.16's frame helpers."""

from __future__ import annotations

import os
import string

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import psweep as ps
from psweep.compat._constants import FILL_VALUE


class Thing:
    """A module-level class: pset values may be the class or its instances."""

    x = 55

    def __eq__(self, other):
        return isinstance(other, Thing) and self.x == other.x

    def __hash__(self):
        return self.x


def triple(a):
    return a * 3


def noop(pset):
    return {}


# Values 0.16's own suite puts into psets: missing values, numpy scalars,
# complex, functions, classes, instances, containers, arrays.
A_VALUES = [1.23, 5, None, np.float32(1.23), np.float64(1.23), np.int64(123), complex(1.0, 3.0)]
B_VALUES = [
    None, np.nan, pd.NA, np.sin, "xx", Thing, Thing(), triple, 1.2, 33, [], (), set(), {},
    [1, 2.0], (1, 2), {1, 2, 3}, {"a": 1, "b": 2}, [pd.NA, 1], [None, None], np.array([1.2]),
    np.random.default_rng(0).random((3, 4)), np.array([pd.NA] * 6).reshape(2, 3),
]


@pytest.mark.parametrize(("na_val", "save"), [(pd.NA, True), (None, False), (np.nan, True)])
def test_extracted_psets_hash_like_the_stored_hash_for_0_16_value_types(na_val, save):
    """For every value type 0.16 allows, df_extract_params/df_extract_pset give psets whose
    pset_hash is the row's _pset_hash, also after the database went through its file."""
    a_values = [na_val if v is None else v for v in A_VALUES]
    params = ps.pgrid(ps.plist("a", a_values), ps.plist("b", B_VALUES))
    df = ps.run(noop, params, save=save)
    if save:
        df = ps.df_read("calc/results.pk")
    assert df["_pset_hash"].tolist() == [ps.pset_hash(p) for p in params]
    extracted = ps.df_extract_params(df)
    assert [ps.pset_hash(p) for p in extracted] == df["_pset_hash"].tolist()
    for pset_id, phash in zip(df["_pset_id"], df["_pset_hash"]):
        assert ps.pset_hash(ps.df_extract_pset(df, pset_id)) == phash
    for py_types in (False, True):
        dicts = ps.df_extract_dicts(df, py_types=py_types)
        for pset_id in df["_pset_id"][:20]:
            found = [d for d in dicts if d["_pset_id"] == pset_id]
            assert len(found) == 1
            row = ps.df_extract_row(df, pset_id, py_types=py_types)
            assert row.keys() == found[0].keys()
            assert ps.pset_hash(row) == ps.pset_hash(found[0])


def test_extract_keeps_na_parameters_of_a_run_and_drops_keys_a_pset_lacked():
    """pd.NA parameters come back as pd.NA (params == extracted, as 0.16 checks); a key
    only a later run has is not added to earlier psets."""
    params1 = ps.pgrid([zip(ps.plist("a", [1, 2, 3]), ps.plist("b", [pd.NA, np.sin, "xx"]))])
    df1 = ps.run(noop, params1, save=False)
    assert ps.df_extract_params(df1) == params1
    assert df1["_pset_hash"].iloc[0] == ps.pset_hash({"a": 1, "b": pd.NA}) == ps.pset_hash({"a": 1})
    params2 = [{"a": 4, "b": 1.23, "c": 77}]
    df2 = ps.run(noop, params2, df=df1, save=False)
    assert ps.df_extract_params(df2) == params1 + params2


def test_extract_py_types_gives_builtin_scalars():
    """py_types=True converts numpy scalars in object columns to Python ones; False keeps them."""
    df = ps.run(noop, [{"a": np.float32(1.5), "b": "x"}, {"a": "s", "b": "y"}], save=False)
    kept = ps.df_extract_params(df)[0]["a"]
    assert type(kept) is np.float32
    assert type(ps.df_extract_params(df, py_types=True)[0]["a"]) is float


def test_extract_params_without_hash_column_uses_the_naming_convention():
    """A frame without _pset_hash gives every column neither starting nor ending with _."""
    df = pd.DataFrame({"a": [1, 2], "b": [None, "x"], "y_": [0.1, 0.2], "_t": [0, 1]}, dtype=object)
    assert ps.df_extract_params(df) == [{"a": 1, "b": None}, {"a": 2, "b": "x"}]


def test_extract_params_of_rows_whose_hash_does_not_match_warns_and_uses_the_convention():
    """An edited row (or a 0.16 row with a joblib hash) no longer matches its hash: a
    UserWarning naming df_update_pset_hash, and 0.16's parameter columns for that row."""
    df = ps.run(lambda p: {"y": p["a"] + 1, "z_": 0}, ps.plist("a", [1, 2]), save=False)
    df.loc[df.index[0], "a"] = 7
    with pytest.warns(UserWarning, match=r"1 of 2 rows \(first: #0\).*df_update_pset_hash"):
        assert ps.df_extract_params(df) == [{"a": 7, "y": 2}, {"a": 2}]
    ps.df_update_pset_hash(df)
    assert df["_pset_hash"].iloc[0] == ps.pset_hash({"a": 7, "y": 2})
    assert ps.df_extract_params(df) == [{"a": 7, "y": 2}, {"a": 2}]


def test_extract_params_of_a_0_16_style_database_searches_once_per_column_set():
    """Foreign hashes in many rows and runs: one warning, convention psets, and the failed
    search is not repeated per row (the call stays fast)."""
    import time

    n = 3000
    df = pd.DataFrame({
        "a": range(n), "b": ["x"] * n, "c": [0.5] * n, "d": [1] * n, "e": [2] * n, "f": [3] * n,
        "g": [4] * n, "result": [9.0] * n, "_pset_hash": ["f" * 40] * n,
        "_run_id": [f"run{i % 30}" for i in range(n)],
    })
    t0 = time.process_time()
    with pytest.warns(UserWarning, match=f"{n} of {n} rows"):
        params = ps.df_extract_params(df)
    seconds = time.process_time() - t0
    assert params[5] == {"a": 5, "b": "x", "c": 0.5, "d": 1, "e": 2, "f": 3, "g": 4, "result": 9.0}
    print(f"df_extract_params of {n} foreign-hash rows: {seconds:.2f} s CPU")


def test_extract_row_errors_and_kinds():
    """df_extract_row picks columns by kind; a _pset_id in 0 or 2 rows is a ParamsError."""
    df = ps.run(lambda p: {"y_": p["a"] * 2}, ps.plist("a", [1, 2]), save=False)
    pid = df["_pset_id"].iloc[0]
    assert ps.df_extract_row(df, pid, kind="pset") == {"a": 1}
    assert ps.df_extract_row(df, pid, kind="post") == {"y_": 2}
    assert set(ps.df_extract_row(df, pid, kind="prefix")) == set(ps.filter_cols(df.columns, "pre"))
    with pytest.raises(ps.ParamsError, match="in 0 rows"):
        ps.df_extract_row(df, "nope")
    with pytest.raises(ps.ParamsError, match="in 2 rows"):
        ps.df_extract_pset(pd.concat([df, df]), pid)


def test_filter_cols_kinds():
    """filter_cols splits names into parameters, prefix (_x) and postfix (x_) columns."""
    cols = ["_foo", "a", "b", "bar_"]
    assert ps.filter_cols(cols) == ps.filter_cols(cols, "pset") == ["a", "b"]
    assert ps.filter_cols(cols, "pre") == ps.filter_cols(cols, "prefix") == ["_foo"]
    assert ps.filter_cols(cols, "post") == ps.filter_cols(cols, "postfix") == ["bar_"]
    with pytest.raises(ValueError, match="kind='x'"):
        ps.filter_cols(cols, "x")


@pytest.mark.parametrize("fill_value", [np.nan, pd.NA, None])
def test_adding_a_parameter_keeps_old_psets_recognised_by_skip_dups(fill_value):
    """df_update_pset_cols fills the new column, keeps hashes; extending with skip_dups
    runs only the new psets and leaves the old rows as they were."""
    params1 = ps.pgrid(ps.plist("a", [1, 2, 3]), ps.plist("b", [pd.NA, np.sin, "xx"]))
    df1 = ps.run(noop, params1, save=False)
    hashes = df1["_pset_hash"].tolist()
    ps.df_update_pset_cols(df1, pset_cols=["a", "b", "c"], fill_value=fill_value)
    assert all(x is fill_value for x in df1["c"])
    assert df1["_pset_hash"].tolist() == hashes
    assert ps.pset_hash({"a": 1, "b": "xx", "c": fill_value}) == ps.pset_hash({"a": 1, "b": "xx"})
    new = ps.pgrid(ps.plist("a", [4, 5]), ps.plist("b", [Thing, Thing()]), ps.plist("c", [np.cos, 1.23]))
    params2 = ps.df_extract_params(df1) + new
    df2 = ps.run(noop, params2, df=df1, save=False, skip_dups=True)
    assert len(df2) == len(df1) + len(new)
    assert df2.iloc[: len(df1)]["_pset_id"].tolist() == df1["_pset_id"].tolist()
    assert [ps.pset_hash(p) for p in ps.df_extract_params(df2)] == df2["_pset_hash"].tolist()


def test_update_pset_cols_refuses_to_drop_a_parameter_and_adds_hashes():
    """Leaving out an existing parameter is a ParamsError; a frame without hashes gets them."""
    df = pd.DataFrame({"a": [1, 2.34], "b": ["xx", "yy"]}, dtype=object)
    ps.df_update_pset_cols(df, pset_cols=["a", "b"])
    assert set(df.columns) == {"a", "b", "_pset_hash"}
    assert df["_pset_hash"].tolist() == [ps.pset_hash({"a": 1, "b": "xx"}), ps.pset_hash({"a": 2.34, "b": "yy"})]
    with pytest.raises(ps.ParamsError, match=r"leaves out the parameter columns \['b'\]"):
        ps.df_update_pset_cols(df, pset_cols=["a", "c"])
    copy = ps.df_update_pset_cols(df, ["a", "b", "c"], copy=True)
    assert "c" in copy.columns and "c" not in df.columns
    assert pd.isna(copy["c"]).all() and FILL_VALUE is ps.FILL_VALUE


def test_update_pset_hash_keeps_hashes_that_match_and_replaces_foreign_ones():
    """Rows whose hash matches their parameters keep it (results without _ stay out); a
    foreign hash (as in a 0.16 database) is replaced by the convention hash."""
    df = ps.run(lambda p: {"y": p["a"] + 1}, ps.plist("a", [1, 2]), save=False)
    before = df["_pset_hash"].tolist()
    assert ps.df_update_pset_hash(df, copy=True)["_pset_hash"].tolist() == before
    df.loc[df.index[1], "_pset_hash"] = "0" * 40
    out = ps.df_update_pset_hash(df, copy=True)
    assert out["_pset_hash"].tolist() == [before[0], ps.pset_hash({"a": 2, "y": 3})]
    assert df["_pset_hash"].iloc[1] == "0" * 40


def test_ensure_dtypes_gives_object_columns_with_the_fill_value():
    """df_ensure_dtypes makes every column object and every missing scalar fill_value."""
    df = pd.DataFrame({"a": [1.5, np.nan], "b": ["x", None], "c": [np.array([np.nan]), pd.NA]})
    out = ps.df_ensure_dtypes(df, fill_value=pd.NA)
    assert all(dtype == np.dtype(object) for dtype in out.dtypes)
    assert out["a"].tolist()[1] is pd.NA and out["b"].tolist()[1] is pd.NA
    assert isinstance(out["c"].iloc[0], np.ndarray)


def _random_frame(pickle_only: bool) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    letters = string.ascii_letters

    def word():
        return "".join(rng.choice(list(letters), 5))

    rows = []
    for _ in range(2):
        vals = [
            int(rng.integers(100)), word(), np.nan, f'"{word()}"', f"'{word()}'",
            [int(rng.integers(99)), float(rng.random()), word()], float(rng.random()),
            rng.random(5).tolist(), {"a": 1, "b": 3, "c": [1, 2, 3]},
        ]
        if pickle_only:
            vals += [True, None, set(rng.integers(0, 99, 10).tolist()), rng.random((5, 5))]
        rows.append(dict(zip(letters, vals)))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("orient", [None, "split", "records", "index", "columns", "default"])
def test_df_write_read_json_round_trips_with_each_orient(orient):
    """df_write/df_read(fmt='json', orient=...) give back an equal frame (floats to 15 digits)."""
    df = _random_frame(pickle_only=False)
    kwds = {} if orient == "default" else {"orient": orient}
    ps.df_write("out/db.json", df, fmt="json", **kwds)
    assert_frame_equal(df, ps.df_read("out/db.json", fmt="json", **kwds), check_exact=False)
    assert not [f for f in os.listdir("out") if f != "db.json"]


def test_df_write_read_pickle_fmt_and_errors():
    """fmt='pickle' is the database format (locked, atomic); other fmts and stray options raise."""
    df = _random_frame(pickle_only=True)
    ps.df_write("calc/results.pk", df, fmt="pickle")
    assert_frame_equal(df, ps.df_read("calc/results.pk", fmt="pickle"))
    with pytest.raises(ValueError, match="fmt='csv'"):
        ps.df_write("x.csv", df, fmt="csv")
    with pytest.raises(ValueError, match="fmt='csv'"):
        ps.df_read("x.csv", fmt="csv")
    with pytest.raises(TypeError, match="orient.*fmt='json'"):
        ps.df_read("calc/results.pk", orient="split")


def test_df_to_json_of_a_database_has_iso_times_in_ns():
    """df_to_json defaults: records, ISO times with full ns precision, a file via path_or_buf."""
    df = ps.run(lambda p: {"y_": p["a"] / 3}, ps.plist("a", [1, 2]), save=False)
    records = pd.read_json(pd.io.common.StringIO(ps.df_to_json(df)), orient="records")
    assert records["a"].tolist() == [1, 2]
    text = ps.df_to_json(df[["_time_utc"]])
    stamp = df["_time_utc"].iloc[0].isoformat()
    assert stamp[:19] in text and text.count(".") == 2  # fractional seconds kept
    assert '"y_":0.333333333333333' in ps.df_to_json(df)
    ps.df_to_json(df, path_or_buf="db.json", orient="split")
    assert ps.df_read("db.json", fmt="json", orient="split")["a"].tolist() == [1, 2]


def test_check_calc_dir_compares_pset_folders_with_rows():
    """check_calc_dir lists _pset_ids without a folder and UUID folders without a row."""

    def func(pset):
        if pset["a"] != 2:
            ps.makedirs(os.path.join(pset["_calc_dir"], pset["_pset_id"]))
        return {}

    df = ps.run(func, ps.plist("a", [1, 2, 3]))
    stray = ps.get_uuid()
    ps.makedirs(f"calc/{stray}")
    ps.makedirs("calc/not-a-uuid")
    out = ps.check_calc_dir("calc", df)
    assert out == {"db_not_disk": {df["_pset_id"].iloc[1]}, "disk_not_db": {stray}}


def test_filter_conds_take_any_iterable_and_xor():
    """Conditions may come from a map or generator; xor keeps rows meeting an odd number."""
    df = pd.DataFrame({"a": np.arange(10), "b": np.arange(10) + 4})
    conds = [df.a > 3, df.b < 9, df.a % 2 == 0]
    ref = df[conds[0] & conds[1] & conds[2]]
    for convert in (lambda c: c, lambda c: c.to_numpy(), lambda c: c.to_list()):
        assert ref.equals(ps.df_filter_conds(df, map(convert, conds)))
    assert df.equals(ps.df_filter_conds(df, iter(conds), op="or"))
    assert ps.df_filter_conds(df, conds, op="xor").equals(df[conds[0] ^ conds[1] ^ conds[2]])
    assert ps.df_filter_conds(df, []).equals(df)
    with pytest.raises(ValueError, match="condition #1 has shape"):
        ps.df_filter_conds(df, [df.a > 1, [True, False]])


def test_df_print_skip_cols_and_deprecated_special_cols(capsys):
    """skip_cols leaves columns out; special_cols warns and acts as prefix_cols; not cols with skip_cols."""
    df = pd.DataFrame({"a": [1], "b": [2], "_c": [3]})
    ps.df_print(df, skip_cols=["a"])
    assert capsys.readouterr().out.split() == ["b", "2"]
    with pytest.warns(DeprecationWarning, match="special_cols"):
        ps.df_print(df, special_cols=True)
    assert capsys.readouterr().out.split()[:3] == ["a", "b", "_c"]
    with pytest.raises(ValueError, match="either cols= or skip_cols="):
        ps.df_print(df, cols=["a"], skip_cols=["b"])


# -- issue 20 item 24b: a row extracted twice compares equal -------------------------


@pytest.mark.parametrize("na_val", [None, np.nan, pd.NA])
@pytest.mark.parametrize("py_types", [False, True])
def test_a_row_extracted_twice_gives_equal_dicts_with_missing_numbers(na_val, py_types):
    """df_extract_dicts and df_extract_row give equal dicts for the same row, also where a numeric
    (float, complex) column has a missing cell: that cell is the one object np.nan, which equals
    itself (NaNs made anew would not)."""
    params = ps.pgrid(ps.plist("a", A_VALUES[:2] + [na_val] + A_VALUES[3:]), ps.plist("f", [1.5, na_val]))
    df = ps.run(noop, params, save=False)
    assert df["a"].dtype.kind in "cO" and df["f"].dtype.kind in "fO"
    dicts = ps.df_extract_dicts(df, py_types=py_types)
    for pset_id, found in zip(df["_pset_id"], dicts):
        assert found == ps.df_extract_row(df, pset_id, py_types=py_types)
    missing = dicts[len(A_VALUES) * 2 - 1]["f"]
    assert any(missing is singleton for singleton in (np.nan, None, pd.NA))
