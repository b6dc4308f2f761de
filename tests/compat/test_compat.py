"""Coming from psweep 0.16: its calc dirs continue, its run options and patterns work.

A psweep 0.16 database is built here the way 0.16 lays it out (checked
against files written by psweep 0.16 itself): every column ``object``, rows
indexed 0, 1, 2, ..., ``_time_utc`` Timestamps in a column, a 40-digit
``_pset_hash`` of joblib's (here: any other 40 hex digits), no ``_failed``.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import uuid
import warnings

import numpy as np
import pandas as pd
import pytest

import psweep as ps
from psweep.store._legacy016 import is_016_frame, upgrade_016_frame


def frame_016(rows: list[dict], first_seq: int = 0, run_seq: int = 0) -> pd.DataFrame:
    """A database as psweep 0.16 writes it, for psets `rows` (results included)."""
    start = pd.Timestamp("2025-03-01 12:00:00")
    records = []
    run_id = str(uuid.uuid4())
    for i, row in enumerate(rows):
        records.append(
            {
                **{k: v for k, v in row.items() if not k.endswith("_")},
                "_pset_hash": uuid.uuid4().hex + "abcdefgh",
                "_pset_id": str(uuid.uuid4()),
                "_run_seq": run_seq,
                "_pset_seq": first_seq + i,
                "_run_id": run_id,
                "_calc_dir": "calc",
                "_time_utc": start + pd.Timedelta(seconds=first_seq + i),
                "_exec_host": "oldhost",
                **{k: v for k, v in row.items() if k.endswith("_")},
                "_pset_runtime": 0.001,
            }
        )
    return pd.DataFrame(records, dtype=object)


def write_016_calc_dir(df: pd.DataFrame, calc_dir: str = "calc") -> str:
    """Pickle `df` as 0.16's <calc_dir>/database.pk (as 0.16 does, no psweep)."""
    os.makedirs(calc_dir, exist_ok=True)
    path = os.path.join(calc_dir, "database.pk")
    with open(path, "wb") as fd:
        pickle.dump(df, fd)
    return path


def study_016() -> pd.DataFrame:
    """Two 0.16 runs: a=1..4, then a=5,6 with b="x" (old rows get b=NA, as 0.16 fills)."""
    first = frame_016([{"a": a, "result_": a * 10.0} for a in [1, 2, 3, 4]])
    second = frame_016([{"a": a, "b": "x", "result_": a * 10.0} for a in [5, 6]], first_seq=4, run_seq=1)
    df = pd.concat([first, second], ignore_index=True).astype(object)
    df["b"] = [pd.NA] * 4 + ["x", "x"]
    return df


def square(pset):
    return {"result_": pset["a"] * 10.0}


def quiet_run(*args, **kwds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ps.run(*args, **kwds)


def test_frame_builder_is_recognised_as_016_and_ours_is_not():
    """The 0.16 layout is detected; a database psweep writes is never taken for one."""
    assert is_016_frame(study_016())
    ours = ps.run(square, ps.plist("a", [1, 2]), save=False)
    assert not is_016_frame(ours)
    assert upgrade_016_frame(ours) is ours
    assert not is_016_frame(ours.reset_index(drop=True))


def test_df_read_of_calc_dir_uses_016_database_and_says_so_once():
    """ps.df_read('calc') on a calc dir with only database.pk reads it, warning once per process."""
    old = study_016()
    write_016_calc_dir(old)
    with pytest.warns(UserWarning, match="database.pk"):
        df = ps.df_read("calc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = ps.df_read("calc")
    assert len(df) == len(again) == 6
    assert df["a"].tolist() == old["a"].tolist()
    assert df["_pset_id"].tolist() == old["_pset_id"].tolist()
    assert not os.path.exists("calc/results.pk")


def test_upgrade_gives_our_hash_failed_and_time_index_keeping_rows():
    """Old rows get pset_hash of 0.16's parameter columns (NA cells left out), _failed=False, a _time_utc index."""
    old = study_016()
    new = upgrade_016_frame(old)
    assert new["_pset_hash"].tolist() == [ps.pset_hash({"a": a}) for a in [1, 2, 3, 4]] + [
        ps.pset_hash({"a": a, "b": "x"}) for a in [5, 6]
    ]
    assert new["_failed"].tolist() == [False] * 6
    assert isinstance(new.index, pd.DatetimeIndex)
    assert list(new.index) == list(old["_time_utc"])
    assert new["result_"].dtype == np.float64 and new["_pset_seq"].dtype == np.int64
    for col in ["a", "result_", "_pset_id", "_run_id", "_pset_seq", "_run_seq", "_exec_host"]:
        assert new[col].tolist() == old[col].tolist(), col
    new.sort_index()  # mixed int/Timestamp index raised here before
    assert len(new[new._failed]) == 0


def test_upgrade_keeps_a_failure_the_function_returned():
    """0.16 rows of a safe_func (returned _failed/_exc_txt) keep that failure."""
    old = frame_016([{"a": 1, "_failed": False, "_exc_txt": None}, {"a": 2, "_failed": True, "_exc_txt": "boom"}])
    new = upgrade_016_frame(old)
    assert new["_failed"].tolist() == [False, True]
    assert pd.isna(new["_exc_txt"].iloc[0]) and new["_exc_txt"].iloc[1] == "boom"


def test_run_continues_016_database_pk_and_skip_dups_skips_every_old_pset():
    """ps.run with the default basename appends to database.pk; skip_dups skips all old psets; old rows kept."""
    old = study_016()
    write_016_calc_dir(old)
    params = ps.plist("a", [1, 2, 3, 4]) + ps.pgrid(ps.plist("a", [5, 6, 7]), ps.plist("b", ["x"]))
    df = quiet_run(square, params, skip_dups=True)
    assert len(df) == 7  # the 6 old rows and a=7 only
    assert not os.path.exists("calc/results.pk")
    on_disk = ps.df_read("calc/database.pk")
    assert len(on_disk) == 7 and not is_016_frame(on_disk)
    assert on_disk["_pset_id"].tolist()[:6] == old["_pset_id"].tolist()
    assert on_disk["a"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert on_disk["_pset_seq"].tolist() == list(range(7))
    assert on_disk["_run_seq"].tolist() == [0, 0, 0, 0, 1, 1, 2]
    assert on_disk["_failed"].dtype == bool and not on_disk["_failed"].any()
    assert on_disk.index.is_monotonic_increasing
    # Nothing left to run: a second pass adds no row.
    assert len(quiet_run(square, params, skip_dups=True)) == 7


def test_backup_copies_016_calc_dir_before_the_first_write():
    """backup=True copies the calc dir, database.pk still in 0.16's format, before converting it."""
    path = write_016_calc_dir(study_016())
    with open(path, "rb") as fd:
        original = fd.read()
    quiet_run(square, ps.plist("a", [9]), backup=True)
    backups = [name for name in os.listdir(".") if name.startswith("calc_")]
    assert len(backups) == 1
    with open(os.path.join(backups[0], "database.pk"), "rb") as fd:
        assert fd.read() == original
    with open(path, "rb") as fd:
        assert fd.read() != original


def test_results_pk_wins_over_database_pk():
    """A calc dir with both files uses results.pk, without a word about database.pk."""
    write_016_calc_dir(study_016())
    ps.run(square, ps.plist("a", [1]), database_basename="results.pk")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = ps.df_read("calc")
        assert len(df) == 1
        assert len(ps.run(square, ps.plist("a", [2]))) == 2


def test_cli_show_runs_check_use_016_database():
    """psweep show/runs/check calc read 0.16's database.pk and say they do."""
    write_016_calc_dir(study_016())
    for command in ("show", "runs", "check"):
        proc = subprocess.run(
            [sys.executable, "-m", "psweep", command, "calc"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert "database.pk" in proc.stderr + proc.stdout
    assert "oldhost" in subprocess.run(
        [sys.executable, "-m", "psweep", "runs", "calc"], capture_output=True, text=True, timeout=120
    ).stdout


def test_df_read_errors_say_what_was_found():
    """Wrong paths name what is there: an empty calc dir, a text file, a missing file beside database.pk."""
    os.makedirs("empty")
    with pytest.raises(ps.DatabaseNotFoundError, match="empty"):
        ps.df_read("empty")
    with open("table.csv", "w") as fd:
        fd.write("a,b\n1,2\n")
    with pytest.raises(ps.DatabaseError, match="text file beginning 'a,b"):
        ps.df_read("table.csv")
    write_016_calc_dir(study_016())
    with pytest.raises(ps.DatabaseNotFoundError, match=r"0.16's database.pk: read it with ps.df_read\('calc'\)"):
        ps.df_read("calc/results.pk")
    with pytest.raises(ps.DatabaseNotFoundError, match="does not exist"):
        ps.df_read("no/such/calc")


def test_df_read_of_calc_dir_equals_read_of_its_results_pk():
    """ps.df_read('calc') reads calc/results.pk."""
    ps.run(square, ps.plist("a", [1, 2]))
    assert ps.df_read("calc").equals(ps.df_read("calc/results.pk"))


def safe_func(pset):
    """0.16's pattern: catch the error and return it as _failed/_exc_txt."""
    if pset["a"] == 2:
        return {"_failed": True, "_exc_txt": "ValueError: a=2 is bad"}
    return {"result_": pset["a"], "_failed": False, "_exc_txt": None}


def test_returned_failure_is_recorded_and_run_again_by_skip_dups():
    """A function returning _failed=True gives a failed row with its _exc_txt; skip_dups re-runs it."""
    df = quiet_run(safe_func, ps.plist("a", [1, 2, 3]))
    assert df["_failed"].tolist() == [False, True, False]
    assert df["_exc_txt"].iloc[1] == "ValueError: a=2 is bad"
    df = quiet_run(safe_func, ps.plist("a", [1, 2, 3]), skip_dups=True)
    assert df["a"].tolist() == [1, 2, 3, 2]


def test_returned_failure_stops_on_error_raise():
    """With on_error='raise', a returned _failed=True stops the run with an error naming its text."""
    with pytest.raises(ps.PsweepError, match="a=2 is bad"):
        ps.run(safe_func, ps.plist("a", [1, 2, 3]), on_error="raise")
    assert ps.df_read("calc")["a"].tolist() == [1, 2]


def test_save_false_with_df_continues_seqs():
    """run(save=False, df=df1) numbers new rows after df1's _pset_seq/_run_seq."""
    df1 = ps.run(square, ps.plist("a", [1, 2, 3]), save=False)
    df2 = ps.run(square, ps.plist("a", [4, 5]), save=False, df=df1)
    assert df2["_pset_seq"].tolist() == [0, 1, 2, 3, 4]
    assert df2["_run_seq"].tolist() == [0, 0, 0, 1, 1]
    assert not os.path.exists("calc")


def test_skip_dups_honours_df_when_saving():
    """skip_dups=True with df= and save=True skips the psets done in df."""
    df1 = ps.run(square, ps.plist("a", [1, 2, 3]), save=False)
    df2 = ps.run(square, ps.plist("a", [1, 2, 3, 4]), df=df1, skip_dups=True)
    assert df2["a"].tolist() == [1, 2, 3, 4]
    assert ps.df_read("calc")["a"].tolist() == [1, 2, 3, 4]  # df1's rows, and a=4 once


def test_tmpsave_pickles_each_row_as_a_dict():
    """tmpsave=True writes calc/tmpsave/<run_id>/<pset_id>.pk holding the row as stored."""
    df = ps.run(square, ps.plist("a", [1, 2]), tmpsave=True)
    for _, row in df.iterrows():
        path = os.path.join("calc", "tmpsave", row["_run_id"], row["_pset_id"] + ".pk")
        with open(path, "rb") as fd:
            saved = pickle.load(fd)
        assert saved == row.to_dict()


def test_tmpsave_with_a_pool():
    """tmpsave works when psets run in worker processes."""
    df = ps.run(square, ps.plist("a", [1, 2, 3]), tmpsave=True, poolsize=2)
    run_id = df["_run_id"].iloc[0]
    assert sorted(os.listdir(os.path.join("calc", "tmpsave", run_id))) == sorted(
        f"{p}.pk" for p in df["_pset_id"]
    )


def test_verbose_prints_each_row(capsys):
    """verbose=True prints every row; a list prints those columns only."""
    ps.run(square, ps.plist("a", [1, 2]), save=False, verbose=True)
    out = capsys.readouterr().out
    assert out.count("result_") == 2 and "_pset_id" in out
    ps.run(square, ps.plist("a", [1, 2]), save=False, verbose=["a"])
    out = capsys.readouterr().out
    assert out.count("result_") == 0 and out.count(" a") == 2


def test_verbose_of_a_wrong_type_is_an_error_before_any_work():
    """verbose='a' (a str, not a list) is a ParamsError naming the value."""
    with pytest.raises(ps.ParamsError, match="verbose='a'"):
        ps.run(square, ps.plist("a", [1]), verbose="a")
    assert not os.path.exists("calc")


def test_fill_value_fills_missing_cells():
    """fill_value=pd.NA puts NA where a row has no value for a column; bookkeeping untouched."""
    df = ps.run(lambda p: {}, [{"a": 1}, {"a": 2, "c": 7}], save=False, fill_value=pd.NA)
    assert df["c"].iloc[0] is pd.NA and df["c"].iloc[1] == 7
    assert df["_exc_txt"].isna().all()


def test_df_extract_params_with_none_and_nan_values():
    """Psets holding None or NaN come back from df_extract_params with the same hash."""
    params = [{"a": 1, "b": None}, {"a": 2, "b": float("nan")}, {"a": 3, "b": 2.5}, {"a": 4}]
    df = ps.run(lambda p: {"y": 1}, params, save=False)
    extracted = ps.df_extract_params(df)
    assert [ps.pset_hash(p) for p in extracted] == df["_pset_hash"].tolist()
    assert set(extracted[0]) == {"a", "b"} and pd.isna(extracted[0]["b"])
    # A missing value hashes like a missing key, so {"a": 4} may come back
    # with b missing (NaN), the column being a parameter of the run.
    assert extracted[3]["a"] == 4 and pd.isna(extracted[3].get("b"))


def test_run_with_df_of_016_converts_it():
    """A 0.16 frame passed as df= is returned in our format, with skip_dups working on it."""
    old = study_016()
    df = ps.run(square, ps.plist("a", [1, 8]), df=old, save=False, skip_dups=True)
    assert df["a"].tolist() == [1, 2, 3, 4, 5, 6, 8]
    assert isinstance(df.index, pd.DatetimeIndex)
    assert df["_pset_seq"].tolist() == list(range(7))


def test_simulate_on_016_calc_dir_leaves_it_alone():
    """simulate=True on a 0.16 calc dir works on a copy; database.pk is not rewritten."""
    path = write_016_calc_dir(study_016())
    with open(path, "rb") as fd:
        original = fd.read()
    df = quiet_run(square, ps.plist("a", [7]), simulate=True)
    assert len(df) == 7
    with open(path, "rb") as fd:
        assert fd.read() == original
    shutil.rmtree("calc.simulate")


def test_df_read_of_016_name_reads_results_pk_when_only_that_exists():
    """A 0.16 script's ps.df_read('calc/database.pk') reads our results.pk (warning once)."""
    ps.run(square, ps.plist("a", [1, 2]))
    with pytest.warns(UserWarning, match="results.pk"):
        df = ps.df_read("calc/database.pk")
    assert df.equals(ps.df_read("calc/results.pk"))
    assert not os.path.exists("calc/database.pk")


def test_df_rows_missing_on_disk_are_saved_and_numbered_before_new_rows():
    """run(df=df1) with save=True stores df1's rows the database lacks, then new rows numbered after them."""
    df1 = ps.run(square, ps.plist("a", [1, 2]), save=False)
    in_memory = ps.run(square, ps.plist("a", [3]), save=False, df=df1)
    saved = ps.run(square, ps.plist("a", [3]), df=df1)
    on_disk = ps.df_read("calc")
    for df in (in_memory, saved, on_disk):
        assert df["a"].tolist() == [1, 2, 3]
        assert df["_pset_seq"].tolist() == [0, 1, 2]
        assert df["_run_seq"].tolist() == [0, 0, 1]
    assert on_disk["_pset_id"].tolist()[:2] == df1["_pset_id"].tolist()
    # Rows already on disk are not added twice.
    again = ps.run(square, ps.plist("a", [4]), df=on_disk)
    assert ps.df_read("calc")["a"].tolist() == [1, 2, 3, 4] == again["a"].tolist()
    assert ps.df_read("calc")["_pset_seq"].tolist() == [0, 1, 2, 3]


def test_save_false_extends_the_database_on_disk_in_memory():
    """run(save=False) without df returns the disk database plus new rows; skip_dups uses it; nothing written."""
    ps.run(square, ps.plist("a", [1, 2]))
    before = os.listdir("calc")
    df = ps.run(square, ps.plist("a", [2, 3]), save=False, skip_dups=True)
    assert df["a"].tolist() == [1, 2, 3]
    assert df["_pset_seq"].tolist() == [0, 1, 2]
    assert len(ps.df_read("calc")) == 2 and os.listdir("calc") == before


def test_func_sees_bookkeeping_in_the_order_of_the_row():
    """The pset func gets lists params, then bookkeeping keys in the database's column order."""
    seen = []
    df = ps.run(lambda pset: seen.append(list(pset)), ps.plist("a", [1]), save=False)
    assert seen[0] == [c for c in df.columns if c in seen[0]]
    assert seen[0][0] == "a" and "_pset_hash" in seen[0]


def test_cli_with_016_database_name_reads_results_pk():
    """psweep show calc/database.pk (a 0.16 script's path) shows calc/results.pk when only that exists."""
    ps.run(square, ps.plist("a", [1, 2]))
    proc = subprocess.run(
        [sys.executable, "-m", "psweep", "show", "calc/database.pk"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "result_" in proc.stdout and "results.pk" in proc.stderr
