"""Failures, resume and dedup: failing psets become rows; skip_dups resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import psweep as ps
import workers
from helpers import check_only_pset_2_failed, check_timed_out


def test_raising_pset_becomes_a_failed_row_and_others_run(recwarn):
    """A raising pset gives _failed=True with traceback; the rest run; a warning counts them."""
    with pytest.warns(UserWarning, match=r"1 of 5 psets failed.*df\[df._failed\]"):
        df = ps.run(workers.fail_on_3, ps.plist("x", [1, 2, 3, 4, 5]))
    assert len(df) == 5
    bad = df[df["_failed"]]
    assert bad["x"].tolist() == [3]
    assert "ValueError: x is 3" in bad["_exc_txt"].iloc[0]
    assert "Traceback" in bad["_exc_txt"].iloc[0]
    good = df[~df["_failed"]]
    assert good["_exc_txt"].isna().all()
    assert (good["y"] == good["x"] ** 2).all()
    assert df["_failed"].dtype == bool
    assert (df["_pset_runtime"] >= 0).all()


def test_raising_pset_in_pool_becomes_a_failed_row():
    """Failures are rows in the pool path too."""
    with pytest.warns(UserWarning, match="1 of 6 psets failed"):
        df = ps.run(workers.fail_on_3, ps.plist("x", range(6)), poolsize=2)
    assert sorted(df[df["_failed"]]["x"]) == [3]
    assert len(df) == 6


def test_on_error_raise_in_pool_keeps_finished_rows_and_reraises():
    """on_error='raise' with a pool stores finished rows, then re-raises the pset's exception."""
    with pytest.raises(ValueError, match="x is 3"):
        ps.run(workers.fail_on_3, ps.plist("x", range(8)), poolsize=2, on_error="raise")
    df = ps.df_read("calc/results.pk")
    assert 3 in set(df["x"])
    assert df.set_index("x").loc[3, "_failed"]
    assert df["_pset_id"].is_unique


def test_on_error_raise_serial_keeps_original_traceback():
    """The re-raised exception carries the traceback into the user's function."""
    with pytest.raises(ValueError) as info:
        ps.run(workers.fail_on_3, ps.plist("x", [3]), on_error="raise")
    frames = [entry.name for entry in info.traceback]
    assert "fail_on_3" in frames


@pytest.mark.parametrize("chunksize", [None, 1, 3])
def test_worker_process_crash_fails_only_the_crashing_pset(chunksize):
    """A pset that kills its worker is the only failure row; every other pset runs (repeatedly)."""
    for _ in range(3):  # the pool breaks at varying moments: repeat
        with pytest.warns(UserWarning, match="1 of 8 psets failed"):
            df = ps.run(workers.crash_on_3, ps.plist("x", range(8)), poolsize=2,
                        chunksize=chunksize, save=False)
        assert sorted(df["x"]) == list(range(8))
        assert df.set_index("x").loc[3, "_failed"]
        assert "died" in df.set_index("x").loc[3, "_exc_txt"]
        ok = df[~df["_failed"]]
        assert sorted(ok["x"]) == [0, 1, 2, 4, 5, 6, 7]


FORK_THREADS = """
import os, sys, threading, warnings
sys.path.insert(0, sys.argv[1])
import psweep as ps, workers
counts = []
os.register_at_fork(before=lambda: counts.append(threading.active_count()))
if __name__ == "__main__":
    for _ in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "1 of 8 psets failed"
            df = ps.run(workers.crash_on_3, ps.plist("x", range(8)), poolsize=2, chunksize=1, save=False)
        assert df["_failed"].sum() == 1, df
    print(" ".join(map(str, counts)))
"""


def test_replacement_pool_forks_with_no_other_thread_running():
    """Regression: a pool replaced after a worker crash forked while the broken
    pool's manager thread still ran (Python >= 3.12 warns that the child may
    deadlock)."""
    proc = subprocess.run([sys.executable, "-c", FORK_THREADS, os.path.dirname(workers.__file__)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    counts = [int(c) for c in proc.stdout.split()]
    assert len(counts) > 2 * 3  # the first pool and at least one replacement per run
    assert set(counts) == {1}, counts


@pytest.mark.parametrize("value, shown", [(42, "int"), ("text", "str"), ([1], "list")])
def test_non_dict_return_is_a_failure_row(value, shown):
    """func returning a non-dict gives a failure row saying what came back."""
    with pytest.warns(UserWarning):
        df = ps.run(lambda p: value, ps.plist("x", [1]))
    assert df["_failed"].iloc[0]
    assert f"returned a {shown}" in df["_exc_txt"].iloc[0]
    assert "expects a dict" in df["_exc_txt"].iloc[0]


def test_none_return_counts_as_empty_dict():
    """func returning None is a success with no results."""
    df = ps.run(lambda p: None, ps.plist("x", [1]))
    assert not df["_failed"].iloc[0]


def test_pset_hash_column_matches_pset_hash():
    """_pset_hash is ps.pset_hash of the pset's own keys."""
    df = ps.run(workers.square, [{"x": 2, "label": "a"}])
    assert df["_pset_hash"].iloc[0] == ps.pset_hash({"x": 2, "label": "a"})


def test_unhashable_pset_value_is_an_error_before_running():
    """A value with no stable hash (a lambda) raises before any work, naming pset and key."""
    with pytest.raises(ps.ParamsTypeError, match="pset #1.*key 'obj'"):
        ps.run(workers.square, [{"x": 1}, {"x": 2, "obj": lambda: 1}])
    assert not os.path.exists("calc")


def test_skip_dups_skips_successful_and_reruns_failed():
    """skip_dups=True runs only psets without a successful row; failed ones run again."""
    with pytest.warns(UserWarning):
        ps.run(workers.fail_on_3, ps.plist("x", [1, 2, 3]))
    df = ps.run(workers.square, ps.plist("x", [1, 2, 3, 4]), skip_dups=True)
    newest = df[df["_run_seq"] == 1]
    assert sorted(newest["x"]) == [3, 4]
    df = ps.run(workers.square, ps.plist("x", [1, 2, 3, 4]), skip_dups=True)
    assert df["_run_seq"].max() == 1  # nothing ran, no new run
    assert len(df) == 5


def test_skip_dups_matches_equal_numbers_of_other_types():
    """skip_dups treats 1.0 and np.int64(1) like 1."""
    ps.run(workers.square, ps.plist("x", [1, 2]))
    df = ps.run(workers.square, [{"x": 1.0}, {"x": np.int64(2)}], skip_dups=True)
    assert len(df) == 2


def test_bookkeeping_columns_on_every_row():
    """_exec_host, _pset_runtime and _time_utc are set on every row."""
    df = ps.run(workers.slow_square, [{"x": 1, "sleep": 0.05}])
    assert df["_exec_host"].iloc[0]
    assert df["_pset_runtime"].iloc[0] >= 0.04
    assert df["_time_utc"].notna().all()


def test_resume_after_sigkill_runs_exactly_the_missing_psets():
    """A killed study re-run with skip_dups runs only the missing and failed psets."""
    script = textwrap.dedent("""
        import sys, time
        import psweep as ps

        @ps.sweep(calc_dir="calc", skip_dups=True)
        def f(pset):
            time.sleep(0.02)
            if pset["x"] == 5:
                raise RuntimeError("bad pset")
            return {"y": pset["x"] ** 2}

        if __name__ == "__main__":
            df = f.over(ps.plist("x", range(100)))
            print("finished", len(df))
    """)
    with open("study.py", "w") as fd:
        fd.write(script)
    proc = subprocess.Popen([sys.executable, "study.py"], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if len(ps.df_read("calc/results.pk")) >= 30:
                break
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    before = ps.df_read("calc/results.pk")
    done_ok = set(before[~before["_failed"]]["x"])
    assert len(before) < 100
    proc = subprocess.run([sys.executable, "study.py"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    after = ps.df_read("calc/results.pk")
    second = after[after["_run_seq"] == after["_run_seq"].max()]
    assert set(second["x"]) == set(range(100)) - done_ok
    assert set(after[~after["_failed"]]["x"]) == set(range(100)) - {5}


@pytest.mark.parametrize("mode", ["db", "file", "db+file"])
def test_capture_logs_catches_python_and_subprocess_output(mode):
    """capture_logs stores print() and subprocess output in _logs and/or logs.txt."""
    df = ps.run(workers.noisy, ps.plist("x", [1, 2]), capture_logs=mode)
    for _, row in df.iterrows():
        path = os.path.join("calc", row["_pset_id"], "logs.txt")
        texts = []
        if "db" in mode:
            texts.append(row["_logs"])
        if "file" in mode:
            texts.append(open(path).read())
        else:
            assert not os.path.exists(path)
        for text in texts:
            assert f"python says {row['x']}" in text
            assert f"stderr says {row['x']}" in text
            assert f"child says {row['x']}" in text


def test_capture_logs_in_pool_and_for_failures():
    """capture_logs works in process pools and keeps the output of failing psets."""
    with pytest.warns(UserWarning):
        df = ps.run(workers.noisy, ps.plist("x", [1, 2, 13]), capture_logs="db", poolsize=2)
    logs = df.set_index("x")["_logs"]
    assert "python says 2" in logs[2]
    assert "python says 13" in logs[13]
    assert df.set_index("x").loc[13, "_failed"]


def test_capture_logs_quiet_psets_get_empty_logs():
    """Psets that print nothing get an empty _logs and run normally."""
    df = ps.run(workers.square, ps.plist("x", [1]), capture_logs="db")
    assert df["_logs"].iloc[0] == ""
    assert df["y"].iloc[0] == 1


def test_df_extract_params_roundtrip_reruns_failed_subset_exactly():
    """Rows back to psets: failed subset re-runs with the same hashes."""
    params = [{"x": x, "tag": "t", "arr": [x, x]} for x in range(5)]
    with pytest.warns(UserWarning):
        df = ps.run(workers.fail_on_3, params)
    assert ps.df_extract_params(df) == params
    failed = ps.df_extract_params(df[df["_failed"]])
    assert failed == [params[3]]
    assert [ps.pset_hash(p) for p in failed] == df[df["_failed"]]["_pset_hash"].tolist()


def test_df_extract_params_with_mixed_runs_and_missing_values():
    """Psets of runs with different keys come back without the other runs' NA columns."""
    ps.run(workers.square, ps.plist("x", [1]))
    df = ps.run(workers.square, [{"x": 2, "extra": 0.5}])
    assert ps.df_extract_params(df) == [{"x": 1}, {"x": 2, "extra": 0.5}]
    assert ps.df_extract_params(df, cols=["x"]) == [{"x": 1}, {"x": 2}]


def test_df_filter_conds_and_df_print(capsys):
    """df_filter_conds combines conditions; df_print hides _ columns unless asked."""
    df = ps.run(workers.square, ps.plist("x", [1, 2, 3]))
    sub = ps.df_filter_conds(df, [df.x > 1, df.y < 9])
    assert sub["x"].tolist() == [2]
    assert ps.df_filter_conds(df, [df.x == 1, df.x == 3], op="or")["x"].tolist() == [1, 3]
    with pytest.raises(ValueError, match="op="):
        ps.df_filter_conds(df, [df.x > 1], op="nand")
    ps.df_print(df)
    out = capsys.readouterr().out
    assert "_pset_id" not in out and "y" in out
    ps.df_print(df, cols=["x"], prefix_cols=True)
    out = capsys.readouterr().out
    assert "_pset_id" in out and "y" not in out.split("\n")[0]


@pytest.mark.parametrize("kwargs", [{}, {"poolsize": 2, "chunksize": 5}, {"poolsize": 2},
                                    {"executor": "threads", "chunksize": 5}],
                         ids=["serial", "pool-chunk5", "pool-adaptive", "threads"])
def test_unpicklable_result_fails_only_its_pset(kwargs):
    """A result that cannot be pickled fails its pset only (serial, pool of any chunk size, threads);
    the other psets run and keep their results, in the returned frame and on disk."""
    if kwargs.get("executor") == "threads":
        import concurrent.futures as cf

        with cf.ThreadPoolExecutor(2) as pool, pytest.warns(UserWarning, match="1 of 5"):
            df = ps.run(workers.unpicklable_on_2, ps.plist("x", range(5)), **{**kwargs, "executor": pool})
    else:
        with pytest.warns(UserWarning, match="1 of 5"):
            df = ps.run(workers.unpicklable_on_2, ps.plist("x", range(5)), **kwargs)
    check_only_pset_2_failed(df)
    check_only_pset_2_failed(ps.df_read("calc/results.pk"))


@pytest.mark.parametrize("func", [lambda a, b: {}, lambda: {}, lambda p, *, scale: {}],
                         ids=["two-args", "no-args", "required-keyword"])
def test_function_of_wrong_shape_is_refused_before_any_work(func):
    """A function that cannot take one positional pset raises FuncTypeError naming the
    signature and the fix, before anything is written."""
    with pytest.raises(ps.FuncTypeError, match=r"signature \(.*\).*def .*\(pset\)"):
        ps.run(func, ps.plist("x", [1, 2]))
    assert not os.path.exists("calc")


def test_functions_taking_one_pset_in_other_shapes_run():
    """Defaults, *args, a partial and a callable object all pass the signature check."""
    import functools

    class Scaled:
        def __call__(self, pset):
            return {"y": pset["x"] * 2}

    for func in (lambda p, scale=2: {"y": p["x"] * scale}, lambda *args: {"y": args[0]["x"] * 2},
                 functools.partial(lambda scale, p: {"y": p["x"] * scale}, 2), Scaled()):
        df = ps.run(func, ps.plist("x", [1, 2]), save=False)
        assert df["y"].tolist() == [2, 4]


@pytest.mark.parametrize("kwargs", [{}, {"poolsize": 2}, {"poolsize": 2, "chunksize": 4}],
                         ids=["serial", "pool", "pool-chunk4"])
def test_hung_pset_times_out_and_the_run_goes_on(kwargs):
    """timeout= turns a pset that runs too long into a failed row saying so; the others run."""
    t0 = time.monotonic()
    with pytest.warns(UserWarning, match="1 of 6"):
        df = ps.run(workers.hang_on_2, ps.plist("x", range(6)), timeout=1, **kwargs)
    assert time.monotonic() - t0 < 25
    check_timed_out(df, 2, 1)
    assert "hang_on_2" in df.set_index("x").loc[2, "_exc_txt"]  # where it was stopped


def test_pset_deaf_to_sigalrm_is_stopped_by_replacing_its_worker(monkeypatch):
    """A pset that never sees SIGALRM is ended by the driver stopping its worker (poolsize=)."""
    import psweep.execute._executors

    monkeypatch.setattr(psweep.execute._executors, "HARD_STOP_GRACE", 2.0)  # 5 s by default
    with pytest.warns(UserWarning, match="1 of 4"):
        df = ps.run(workers.hang_deaf_on_0, ps.plist("x", range(4)), poolsize=2, timeout=1)
    check_timed_out(df, 0, 1)
    assert "replaced" in df.set_index("x").loc[0, "_exc_txt"]


@pytest.mark.parametrize("value", [0, -1, "5", True])
def test_bad_timeout_is_refused(value):
    """timeout= must be a positive number of seconds."""
    with pytest.raises(ps.ParamsError, match="timeout="):
        ps.run(workers.square, ps.plist("x", [1]), timeout=value)


MAIN_CLASS_STUDY = """
import sys, warnings
import psweep as ps
from concurrent.futures import ThreadPoolExecutor

class Result:
    def __init__(self, value):
        self.value = value

def f(pset):
    return {"res": Result(pset["x"]), "y": pset["x"]}

if __name__ == "__main__":
    kwargs = {"poolsize": 2} if sys.argv[1] == "pool" else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = ps.run(f, ps.plist("x", range(5)), **kwargs)
    texts = [str(w.message) for w in caught if "__main__" in str(w.message)]
    print(len(df), len(texts))
    print(texts[0] if texts else "")
"""


@pytest.mark.parametrize("mode", ["serial", "pool"])
def test_result_of_a_main_class_warns_once_per_run(mode):
    """A result holding an instance of a class from __main__ is stored, with one warning per
    run naming the key, the class and the fix; plain results give no warning."""
    with open("study.py", "w") as fd:
        fd.write(MAIN_CLASS_STUDY)
    proc = subprocess.run([sys.executable, "study.py", mode], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    counts, text = proc.stdout.splitlines()[:2]
    assert counts == "5 1", proc.stdout
    assert "'res'" in text and "'Result'" in text and "importable module" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ps.run(workers.square, ps.plist("x", range(3)), calc_dir="plain")
