"""Tests of psweep/run.py: the run() semantics of the original psweep and more."""

from __future__ import annotations

import copy
import os
import pickle
import warnings

import pandas as pd
import pytest

import psweep as ps
import workers


def test_run_returns_db_with_bookkeeping_and_appends_to_disk():
    """run() writes calc/results.pk with results and seed bookkeeping columns."""
    params = ps.plist("x", [1, 2, 3])
    df = ps.run(workers.square, params)
    assert os.path.isfile("calc/results.pk")
    assert df["y"].tolist() == [1, 4, 9]
    for col in ["_run_id", "_pset_id", "_calc_dir", "_time_utc", "_pset_hash",
                "_pset_seq", "_run_seq", "_exec_host", "_pset_runtime", "_failed", "_exc_txt"]:
        assert col in df.columns, col
    assert df["_run_id"].nunique() == 1
    assert df["_pset_id"].nunique() == 3
    assert (df["_calc_dir"] == "calc").all()
    assert isinstance(df.index, pd.DatetimeIndex)
    assert (df.index == df["_time_utc"]).all()
    pd.testing.assert_frame_equal(ps.df_read("calc/results.pk"), df)
    # Plain pickle: the same values; pandas 3's str columns are object in the
    # file, which every pandas reads (issue 20, item 4).
    on_disk = pickle.load(open("calc/results.pk", "rb"))
    pd.testing.assert_frame_equal(on_disk, df, check_dtype=False)


def test_ids_are_version_4_uuids_in_canonical_text():
    """_run_id and _pset_id (built in a batch with numpy) are valid, distinct uuid4 texts."""
    import uuid

    df = ps.run(workers.square, ps.plist("x", range(300)))
    ids = df["_pset_id"].tolist() + [df["_run_id"].iloc[0]]
    assert len(set(ids)) == len(ids) == 301
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_second_run_appends_with_new_run_id():
    """A second run appends rows under a new _run_id and the next _run_seq."""
    ps.run(workers.square, ps.plist("x", [1, 2]))
    df = ps.run(workers.square, ps.plist("x", [3]))
    assert len(df) == 3
    assert df["_run_id"].nunique() == 2
    assert sorted(df["_run_seq"].unique()) == [0, 1]
    assert sorted(df["_pset_seq"]) == [0, 1, 2]


def test_params_are_never_mutated():
    """run() works on copies: the caller's psets keep their keys and values."""
    params = [{"x": 1, "lst": [1, 2]}, {"x": 2, "lst": [3]}]
    before = copy.deepcopy(params)
    ps.run(workers.square, params)
    assert params == before


def test_calc_dir_kept_as_given():
    """_calc_dir holds calc_dir exactly as passed."""
    df = ps.run(workers.square, ps.plist("x", [1]), calc_dir="sub/../mycalc")
    assert df["_calc_dir"].tolist() == ["sub/../mycalc"]


def test_func_may_return_the_whole_pset_or_none():
    """Returning the updated pset or None both work."""
    def whole(pset):
        pset["z"] = pset["x"] + 1
        return pset

    def nothing(pset):
        return None

    df = ps.run(whole, ps.plist("x", [1]), save=False)
    assert df["z"].tolist() == [2]
    df = ps.run(nothing, ps.plist("x", [1]), save=False)
    assert not df["_failed"].any()


def test_natural_dtypes_and_missing_values():
    """Ints stay int64, floats float64; a column missing in some rows is NA."""
    df = ps.run(workers.square, ps.plist("x", [1, 2]))
    assert df["x"].dtype == "int64"
    assert df["y"].dtype == "int64"
    assert df["_pset_runtime"].dtype == "float64"
    df = ps.run(workers.square, [{"x": 3, "extra": 0.5}])
    assert df["extra"].dtype == "float64"
    assert df["extra"].isna().sum() == 2
    assert df["x"].dtype == "int64"


def test_df_given_returns_df_plus_new_rows_and_disk_keeps_everything():
    """With df=, the return is df + new rows; the disk database only grows."""
    ps.run(workers.square, ps.plist("x", [1, 2, 3]))
    full = ps.df_read("calc/results.pk")
    filtered = full[full["x"] == 1]
    out = ps.run(workers.square, ps.plist("x", [10]), df=filtered)
    assert out["x"].tolist() == [1, 10]
    on_disk = ps.df_read("calc/results.pk")
    assert sorted(on_disk["x"]) == [1, 2, 3, 10]


def test_returned_frame_includes_rows_of_other_drivers():
    """The returned database includes rows recorded by another run meanwhile."""
    def other_driver(pset):
        if pset["x"] == 1:
            ps.run(workers.square, ps.plist("x", [100]), calc_dir="calc")
        return {"y": 0}

    df = ps.run(other_driver, ps.plist("x", [1, 2]))
    assert sorted(df["x"]) == [1, 2, 100]


def test_save_false_writes_nothing():
    """save=False returns the rows but creates no files."""
    df = ps.run(workers.square, ps.plist("x", [1]), save=False)
    assert len(df) == 1
    assert not os.path.exists("calc")


def test_poolsize_runs_in_processes():
    """poolsize=2 runs psets in other processes and records every row."""
    params = [{"x": x, "sleep": 0.01} for x in range(10)]
    df = ps.run(workers.slow_square, params, poolsize=2)
    assert sorted(df["x"]) == list(range(10))
    assert (df["y"] == df["x"] ** 2).all()
    assert os.getpid() not in set(df["pid"])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"a": 1}, "not a list of dicts"),
        (5, "not a list of dicts"),
        ([{"a": 1}, 7], "pset #1 is a int"),
        ([{"a": 1}, {2: "x"}], "pset #1 has the key 2"),
    ],
)
def test_bad_params_raise_before_anything_is_created(params, match):
    """Bad params give a typed error with position and fix; no dir is created."""
    with pytest.raises(ps.ParamsTypeError, match=match) as info:
        ps.run(workers.square, params)
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, ps.PsweepError)
    assert not os.path.exists("calc")


def test_func_not_callable_is_a_type_error():
    """A non-callable func raises FuncTypeError before any work."""
    with pytest.raises(ps.FuncTypeError, match="not callable"):
        ps.run(42, ps.plist("x", [1]))
    assert not os.path.exists("calc")


def test_calc_dir_that_is_a_file_is_rejected():
    """calc_dir naming an existing file raises CalcDirError (a ValueError)."""
    with open("calc", "w") as fd:
        fd.write("not a dir")
    with pytest.raises(ps.CalcDirError, match="existing file") as info:
        ps.run(workers.square, ps.plist("x", [1]))
    assert isinstance(info.value, ValueError)


def test_corrupt_database_error_names_file_and_keeps_it():
    """A database that does not unpickle raises DatabaseError; the file is kept as is."""
    os.makedirs("calc")
    with open("calc/results.pk", "wb") as fd:
        fd.write(b"garbage, not a pickle")
    with pytest.raises(ps.DatabaseError, match="calc/results.pk"):
        ps.run(workers.square, ps.plist("x", [1]))
    with open("calc/results.pk", "rb") as fd:
        assert fd.read() == b"garbage, not a pickle"


def test_df_read_missing_file_is_file_not_found():
    """df_read of a missing file raises a PsweepError that is a FileNotFoundError."""
    with pytest.raises(FileNotFoundError, match="nowhere/results.pk") as info:
        ps.df_read("nowhere/results.pk")
    assert isinstance(info.value, ps.PsweepError)


def test_df_write_then_read_roundtrip():
    """df_write/df_read round-trip a DataFrame through the pickle file."""
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    ps.df_write("out/db.pk", df)
    pd.testing.assert_frame_equal(ps.df_read("out/db.pk"), df)


def test_errors_pickle():
    """Errors survive pickling (they cross process boundaries)."""
    for cls in [ps.ParamsError, ps.ParamsTypeError, ps.DatabaseNotFoundError,
                ps.LockTimeoutError, ps.SweepPickleError, ps.CalcDirError]:
        err = pickle.loads(pickle.dumps(cls("msg")))
        assert type(err) is cls and str(err) == "msg"


def test_simulate_uses_copy_and_does_not_call_func():
    """simulate=True runs in calc.simulate from a copy of the db; calc stays untouched."""
    ps.run(workers.square, ps.plist("x", [1, 2]))
    before = open("calc/results.pk", "rb").read()

    def must_not_run(pset):
        raise AssertionError("called")

    df = ps.run(must_not_run, ps.plist("x", [3, 4]), simulate=True, backup=True)
    assert len(df) == 4
    assert df["y"].isna().sum() == 2
    assert not df["_failed"].any()
    assert len(ps.df_read("calc.simulate/results.pk")) == 4
    assert open("calc/results.pk", "rb").read() == before
    assert not [d for d in os.listdir(".") if d.startswith("calc_")]


def test_column_order_params_results_then_bookkeeping():
    """Columns come as the pset's keys, then results, then _ bookkeeping columns."""
    df = ps.run(workers.square, [{"x": 1, "_label": "a", "z": 0}])
    cols = list(df.columns)
    assert cols[:4] == ["x", "_label", "z", "y"]
    assert cols[4:] == ["_run_id", "_pset_id", "_calc_dir", "_pset_hash", "_pset_seq", "_run_seq",
                        "_time_utc", "_exec_host", "_pset_runtime", "_failed", "_exc_txt"]


def test_returned_bookkeeping_keys_do_not_override_the_engine():
    """A func returning _pset_id etc. (e.g. the whole pset, changed) cannot corrupt bookkeeping."""
    def sneaky(pset):
        return {**pset, "_pset_id": "forged", "_run_seq": 99, "y": 1}

    df = ps.run(sneaky, ps.plist("x", [1, 2]))
    assert "forged" not in set(df["_pset_id"])
    assert set(df["_run_seq"]) == {0}
    assert df["y"].tolist() == [1, 1]


def test_planned_hashes_equal_pset_hash_across_key_sets_and_types():
    """The run's per-key-set hashing gives exactly ps.pset_hash of each pset."""
    params = [
        {"a": 1, "b": 2.5},
        {"b": 2.5, "a": 1},
        {"a": 2**70},
        {"a": True},
        {"a": 1.0},
        {"c": "x", "_note": 3},
        {"a": [1, {"x": 2}], "b": None},
        {"a": -7, "b": "y"},
    ]
    df = ps.run(lambda pset: {}, params, save=False)
    assert df["_pset_hash"].tolist() == [ps.pset_hash(p) for p in params]
    assert df["_pset_hash"].iloc[0] == df["_pset_hash"].iloc[1]
    assert df["_pset_hash"].iloc[3] != df["_pset_hash"].iloc[4]


def test_bookkeeping_keys_in_params_are_replaced_and_mutable_values_copied():
    """Psets taken from an old database (bookkeeping keys included) get fresh
    bookkeeping; a func mutating its pset never reaches the caller's params."""
    old = {"x": 1, "lst": [1], "_pset_id": "old", "_run_id": "old", "_pset_hash": "bogus", "_pset_seq": 7}

    def mutate(pset):
        pset["lst"].append(99)
        return {"n": len(pset["lst"])}

    df = ps.run(mutate, [old, {"x": 2, "lst": [5]}])
    assert old["lst"] == [1] and old["_pset_id"] == "old"
    assert df["n"].tolist() == [2, 2]
    assert "old" not in set(df["_pset_id"]) | set(df["_run_id"])
    assert df["_pset_hash"].iloc[0] == ps.pset_hash({"x": 1, "lst": [1]})
    assert df["_pset_seq"].tolist() == [0, 1]


def test_rows_to_frame_mixed_keys_missing_and_old_style_times():
    """Rows with differing keys get the union of columns (first-seen order,
    bookkeeping last); float times become datetimes and the index, a missing
    time is NaT, and Timestamp times (older journals) convert too."""
    from psweep.store import rows_to_frame

    t0 = 1_790_000_000.25
    with warnings.catch_warnings():
        # numpy >= 2.5 deprecates a NaT without a unit (it was one here).
        warnings.simplefilter("error", DeprecationWarning)
        df = rows_to_frame([
            {"a": 1, "_pset_id": "p1", "_time_utc": t0, "y": 1.5},
            {"a": 2, "_pset_id": "p2", "z": "only here", "_time_utc": t0 + 1},
            {"_pset_id": "p3", "a": 3, "y": 2.5},
        ])
    assert list(df.columns) == ["a", "y", "z", "_pset_id", "_time_utc"]
    assert df["a"].tolist() == [1, 2, 3]
    assert df["z"].isna().tolist() == [True, False, True]
    assert str(df["_time_utc"].dtype) == "datetime64[ns]"
    assert df["_time_utc"].iloc[0] == pd.Timestamp(t0, unit="s")
    assert df["_time_utc"].iloc[1] - df["_time_utc"].iloc[0] == pd.Timedelta(seconds=1)
    assert pd.isna(df["_time_utc"].iloc[2])
    assert isinstance(df.index, pd.DatetimeIndex)
    assert df.index.equals(pd.DatetimeIndex(df["_time_utc"]))

    old = rows_to_frame([{"x": 1, "_time_utc": pd.Timestamp("2026-01-01")}, {"x": 2, "_time_utc": t0}])
    assert old["_time_utc"].iloc[0] == pd.Timestamp("2026-01-01")
    assert old["_time_utc"].iloc[1] == pd.Timestamp(t0, unit="s")


def _load_function(code: str, name: str):
    """`f` from a module file `name`.py written with `code` (so its source can be read)."""
    import importlib.util
    import textwrap

    path = os.path.abspath(f"{name}.py")
    with open(path, "w") as fd:
        fd.write(textwrap.dedent(code))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


_STUDY_V1 = """
    def f(pset):
        return {"y": pset["a"] * 10}
"""
# The same code reformatted, commented and decorated with other options.
_STUDY_V1_RESTYLED = """
    import psweep as ps

    @ps.sweep(calc_dir="calc", poolsize=None)
    def f(pset):
        # the result
        return {"y": pset["a"]   *   10}
"""
_STUDY_V2 = """
    def f(pset):
        return {"y": pset["a"] * 10 + 1}
"""


def _code_warnings(record) -> list[str]:
    return [str(w.message) for w in record if "made by other code" in str(w.message)]


def test_provenance_records_a_code_hash_of_the_function():
    """Each run's backup_script/<_run_id>.json holds the code hash of its function."""
    import json

    from psweep.provenance import code_hash

    df = ps.run(workers.square, ps.plist("x", [1]))
    with open(f"calc/backup_script/{df._run_id.iloc[0]}.json") as fd:
        info = json.load(fd)
    assert info["code_hash"] == code_hash(workers.square)
    assert code_hash(workers.square) != code_hash(workers.fail_on_3)


def test_code_hash_ignores_layout_comments_and_decorator_options():
    """Reformatting, comments or other @ps.sweep options are the same code; a changed body is not."""
    from psweep.provenance import code_hash

    v1 = _load_function(_STUDY_V1, "study_v1")
    restyled = _load_function(_STUDY_V1_RESTYLED, "study_v1_restyled")
    v2 = _load_function(_STUDY_V2, "study_v2")
    assert code_hash(v1) == code_hash(restyled) == code_hash(restyled.__wrapped__)
    assert code_hash(v1) != code_hash(v2)
    assert code_hash(v1).startswith("src:")


def test_skip_dups_warns_once_when_reused_rows_came_from_other_code():
    """skip_dups=True reuses rows of other code with one warning that counts them and names the fix."""
    ps.run(_load_function(_STUDY_V1, "study_v1"), ps.plist("a", [1, 2, 3]))
    v2 = _load_function(_STUDY_V2, "study_v2")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        df = ps.run(v2, ps.plist("a", [1, 2, 3, 4]), skip_dups=True)
    messages = _code_warnings(record)
    assert len(messages) == 1, messages
    assert "reused the rows of 3 psets" in messages[0]
    assert "skip_dups='same-code'" in messages[0]
    assert df["y"].tolist() == [10, 20, 30, 41]  # reused, then the one new pset


def test_skip_dups_same_code_reruns_psets_made_by_other_code():
    """skip_dups="same-code" re-runs psets whose rows came from other code, then skips them."""
    ps.run(_load_function(_STUDY_V1, "study_v1"), ps.plist("a", [1, 2, 3]))
    ps.run(_load_function(_STUDY_V1_RESTYLED, "study_v1_restyled"), ps.plist("a", [3]))
    v2 = _load_function(_STUDY_V2, "study_v2")
    ps.run(v2, ps.plist("a", [2]))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        df = ps.run(v2, ps.plist("a", [1, 2, 3, 4]), skip_dups="same-code")
        new = df[df._run_id == df._run_id.iloc[-1]]
        assert new["a"].tolist() == [1, 3, 4]  # a=2 was made by v2 already
        assert new["y"].tolist() == [11, 31, 41]
        again = ps.run(v2, ps.plist("a", [1, 2, 3, 4]), skip_dups=True)
    assert len(again) == len(df)  # nothing left to run
    assert _code_warnings(record) == []  # each pset has a row of this code


def test_same_code_treats_rows_without_a_recorded_hash_as_other_code():
    """Rows whose run recorded no code hash are reused quietly by True, re-run by "same-code"."""
    v1 = _load_function(_STUDY_V1, "study_v1")
    first = ps.run(v1, ps.plist("a", [1, 2]))
    os.remove(f"calc/backup_script/{first._run_id.iloc[0]}.json")  # as if made before psweep hashed code
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert len(ps.run(v1, ps.plist("a", [1, 2]), skip_dups=True)) == 2
    assert _code_warnings(record) == []
    assert len(ps.run(v1, ps.plist("a", [1, 2]), skip_dups="same-code")) == 4


def test_skip_dups_reads_code_hashes_once_per_run_not_per_row(monkeypatch):
    """Deciding what was made by which code reads one provenance file per run that made reused rows."""
    import psweep.engine._dups

    ps.run(workers.square, ps.plist("x", range(200)))
    ps.run(workers.square, ps.plist("x", range(200, 300)))
    asked = []
    real = psweep.engine._dups.run_code_hashes

    def spy(calc_dir, run_ids):
        asked.append(list(run_ids))
        return real(calc_dir, run_ids)

    monkeypatch.setattr(psweep.engine._dups, "run_code_hashes", spy)
    df = ps.run(workers.square, ps.plist("x", range(301)), skip_dups="same-code")
    assert len(df) == 301
    assert [len(ids) for ids in asked] == [2]


@pytest.mark.parametrize("value", ["yes", "same_code", 2])
def test_skip_dups_rejects_unknown_values(value):
    """skip_dups takes False, True or "same-code"; anything else fails before any work."""
    with pytest.raises(ps.ParamsError, match="skip_dups=.*same-code"):
        ps.run(workers.square, ps.plist("x", [1]), skip_dups=value)
    assert not os.path.exists("calc")


def test_same_code_needs_a_function_with_python_code():
    """skip_dups="same-code" with a builtin (no code to hash) is a clear error before any work."""
    with pytest.raises(ps.ParamsError, match="no Python code to hash"):
        ps.run(dict, ps.plist("x", [1]), skip_dups="same-code")
    assert not os.path.exists("calc")


def test_unknown_option_of_run_names_the_closest_one():
    """ps.run(calcdir=...) is an OptionError (a TypeError) asking "did you mean 'calc_dir'?"."""
    with pytest.raises(ps.OptionError, match="'calcdir' \\(did you mean 'calc_dir'\\?\\)"):
        ps.run(workers.square, ps.plist("x", [1]), calcdir="elsewhere")
    with pytest.raises(TypeError, match="'poolsise' \\(did you mean 'poolsize'\\?\\), 'zzz'\\."):
        ps.run(workers.square, ps.plist("x", [1]), poolsise=2, zzz=1)
    assert os.listdir(".") == []


@pytest.mark.parametrize("mode", ["serial", "pool"])
def test_ctrl_c_ends_with_one_line_of_rows_saved_and_how_to_resume(mode):
    """After a real SIGINT the output ends with how many rows were saved and how to resume."""
    import re
    import signal
    import subprocess
    import sys

    from helpers import read_lines, wait_until

    driver = os.path.join(os.path.dirname(os.path.abspath(workers.__file__)), "drivers.py")
    args = [sys.executable, driver, "calc", "0", "2000", "--sleep", "0.01", "--log", "done.log"]
    if mode == "pool":
        args += ["--poolsize", "2"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: len(read_lines("done.log")) >= 30, 120, "30 finished psets")
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    last = stderr.strip().splitlines()[-1]  # Python 3.10: "KeyboardInterrupt: psweep: ..."
    match = re.search(
        r"^(KeyboardInterrupt: )?psweep: interrupted; (\d+) of 2000 psets of this run are saved in "
        r"calc/results.pk\. Run the same study again with skip_dups=True to do only the (\d+) missing\.$",
        last,
    )
    assert match, stderr[-2000:]
    saved = int(match.group(2))
    assert saved == len(ps.df_read("calc/results.pk")) > 0
    assert int(match.group(3)) == 2000 - saved


def test_docstring_examples_run_as_pasted():
    """Each docstring example of psweep runs on its own in a fresh folder, with no names provided."""
    import doctest
    import importlib
    import pkgutil
    import tempfile

    import psweep

    finder = doctest.DocTestFinder()
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    failed, ran = [], 0
    for info in pkgutil.walk_packages(psweep.__path__, "psweep."):
        module = importlib.import_module(info.name)
        for test in finder.find(module):
            if not test.examples:
                continue
            test.globs = {"__name__": module.__name__}  # only what a user's session has
            runner = doctest.DocTestRunner(optionflags=flags)
            here = os.getcwd()
            with tempfile.TemporaryDirectory() as folder:
                os.chdir(folder)
                try:
                    result = runner.run(test, out=lambda text: None)
                finally:
                    os.chdir(here)
            ran += 1
            if result.failed:
                failed.append(test.name)
    assert ran >= 5
    assert failed == []


def test_simulate_with_same_code_plans_what_the_real_run_would():
    """simulate + skip_dups="same-code" reads the real runs' code hashes: it plans the same psets."""
    ps.run(_load_function(_STUDY_V1, "study_v1"), ps.plist("a", [1, 2]))
    v2 = _load_function(_STUDY_V2, "study_v2")
    ps.run(v2, ps.plist("a", [2]))
    sim = ps.run(v2, ps.plist("a", [1, 2, 3]), simulate=True, skip_dups="same-code")
    assert sim[sim._run_id == sim._run_id.iloc[-1]]["a"].tolist() == [1, 3]
