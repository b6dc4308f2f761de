"""The worker: sys.exit() in a pset, output of a pset that kills its worker, what func sees."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import textwrap

import pytest

import psweep as ps
import workers
from helpers import wait_until

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def dask_client():
    """A real LocalCluster with two single-threaded worker processes."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture
def private_tmpdir(tmp_path, monkeypatch):
    """TMPDIR of this test alone (also for worker processes), to look for leftovers."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() caches its answer
    return folder


def _run_on(where, func, params, dask_client=None, **kwargs):
    """ps.run of func on `where`: serial, pool-<start method>, threads or dask."""
    if where == "serial":
        return ps.run(func, params, **kwargs)
    if where.startswith("pool-"):
        context = multiprocessing.get_context(where[len("pool-"):])
        with cf.ProcessPoolExecutor(2, mp_context=context) as pool:
            return ps.run(func, params, executor=pool, **kwargs)
    if where == "poolsize":
        return ps.run(func, params, poolsize=2, **kwargs)
    if where == "threads":
        with cf.ThreadPoolExecutor(2) as pool:
            return ps.run(func, params, executor=pool, **kwargs)
    assert where == "dask"
    return ps.run(func, params, executor=dask_client, **kwargs)


WHERE = ["serial", "poolsize", "pool-fork", "pool-spawn", "pool-forkserver", "threads", "dask"]


@pytest.mark.parametrize("where", WHERE)
def test_sys_exit_in_a_pset_is_a_failed_row_and_the_run_goes_on(where, request):
    """A pset calling sys.exit(3) becomes a failed row naming SystemExit and its code;
    every other pset runs, on every kind of executor, and nothing is raised."""
    client = request.getfixturevalue("dask_client") if where == "dask" else None
    with pytest.warns(UserWarning, match="1 of 5 psets failed"):
        df = _run_on(where, workers.exit_on_2, ps.plist("x", range(5)), client)
    by_x = df.set_index("x")
    assert by_x["_failed"].tolist() == [False, False, True, False, False]
    text = by_x.loc[2, "_exc_txt"]
    assert "SystemExit: 3" in text and "exit code 3" in text, text
    assert "exit_on_2" in text  # the traceback into the function
    assert by_x.loc[4, "y"] == 16
    assert len(ps.df_read("calc/results.pk")) == 5


@pytest.mark.parametrize("how, code", [("bare", "None"), ("raise", "'bye'")])
def test_sys_exit_without_a_number_names_its_code(how, code):
    """sys.exit() and raise SystemExit("bye") are failed rows whose _exc_txt gives the code."""
    with pytest.warns(UserWarning, match="1 of 3"):
        df = ps.run(workers.exit_on_2, [{"x": x, "how": how} for x in range(3)])
    text = df.set_index("x").loc[2, "_exc_txt"]
    assert "SystemExit" in text and f"exit code {code}" in text, text


@pytest.mark.parametrize("where", ["serial", "poolsize"])
def test_on_error_raise_raises_systemexit_after_saving_the_rows(where):
    """With on_error="raise", a pset's sys.exit(3) ends the run as its first failure:
    every finished row is saved (the failed one too), then SystemExit(3) is raised."""
    with pytest.raises(SystemExit) as info:
        _run_on(where, workers.exit_on_2, ps.plist("x", range(3)), on_error="raise")
    assert info.value.code == 3
    df = ps.df_read("calc/results.pk")
    assert df.set_index("x").loc[2, "_failed"]
    assert set(df["x"]) >= {2}


STUDY_EXIT_CODE = """
import sys
sys.path.insert(0, sys.argv[1])
import psweep as ps, workers
if __name__ == "__main__":
    ps.run(workers.exit_on_2, ps.plist("x", range(4)), on_error="raise")
    print("not reached")
"""


def test_on_error_raise_script_exits_with_the_psets_code():
    """A script whose pset calls sys.exit(3) under on_error="raise" exits with code 3,
    its rows saved, as the script would without psweep."""
    proc = subprocess.run([sys.executable, "-c", STUDY_EXIT_CODE, TESTS_DIR],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "not reached" not in proc.stdout
    assert sorted(ps.df_read("calc/results.pk")["x"]) == [0, 1, 2]


@pytest.mark.parametrize("mode", ["db", "db+file"])
@pytest.mark.parametrize("how", ["exit", "segfault"])
def test_output_of_a_pset_that_kills_its_worker_is_in_its_failed_row(mode, how, private_tmpdir):
    """A pset that kills its worker (os._exit, a segfault) gets a failed row whose _logs
    hold what it printed, in order; no temporary file is left in TMPDIR."""
    params = [{"x": x, "how": how} for x in range(4)]
    with pytest.warns(UserWarning, match="1 of 4"):
        df = ps.run(workers.print_then_die_on_2, params, poolsize=2, capture_logs=mode)
    by_x = df.set_index("x")
    assert by_x["_failed"].tolist() == [False, False, True, False]
    assert "died" in by_x.loc[2, "_exc_txt"]
    # (a faulthandler enabled on stderr would add its dump of the segfault)
    assert by_x.loc[2, "_logs"].startswith("first 2\nsecond\nthird\nfourth, no newline")
    assert by_x.loc[3, "_logs"] == "first 3\n"
    if mode == "db+file":
        with open(os.path.join("calc", by_x.loc[2, "_pset_id"], "logs.txt")) as fd:
            assert fd.read().endswith("first 2\nsecond\nthird\nfourth, no newline")
    assert os.listdir(private_tmpdir) == []


@pytest.mark.parametrize("where", ["serial", "poolsize", "threads", "dask"])
def test_capture_to_db_leaves_no_file_in_tmpdir(where, private_tmpdir, request):
    """capture_logs="db" leaves nothing in TMPDIR, with failing psets too."""
    client = request.getfixturevalue("dask_client") if where == "dask" else None
    with pytest.warns(UserWarning, match="1 of 3"):
        df = _run_on(where, workers.noisy, ps.plist("x", [1, 2, 13]), client, capture_logs="db")
    assert "python says 13" in df.set_index("x").loc[13, "_logs"]
    if where != "dask":  # Dask's worker processes started before TMPDIR was set
        assert os.listdir(private_tmpdir) == []


KILLED_DRIVER = """
import sys
sys.path.insert(0, sys.argv[1])
import psweep as ps, workers
if __name__ == "__main__":
    params = [{"x": x, "sleep": 0.3, "log": "done.log"} for x in range(200)]
    ps.run(workers.logged_square, params, poolsize=2, capture_logs="db")
"""


def test_folder_of_a_killed_driver_is_removed_by_the_next_run(private_tmpdir):
    """A SIGKILLed driver leaves its capture folder in TMPDIR; the next run that captures
    to the db on this host removes it, and leaves nothing itself."""
    proc = subprocess.Popen([sys.executable, "-c", KILLED_DRIVER, TESTS_DIR],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: os.path.exists("done.log"), 120, "a finished pset")
        wait_until(lambda: os.listdir(private_tmpdir), 30, "the capture folder")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert [name.startswith("psweep-logs-") for name in os.listdir(private_tmpdir)] == [True]
    ps.run(workers.square, ps.plist("x", [1]), calc_dir="calc2", capture_logs="db")
    assert os.listdir(private_tmpdir) == []


@pytest.mark.parametrize("where", ["serial", "poolsize", "threads", "dask"])
def test_func_sees_the_bookkeeping_known_when_it_is_called(where, request):
    """func's pset holds the pset's keys, then the row's bookkeeping known before the call,
    in the database's column order: _run_id ... _run_seq and _exec_host (as in psweep 0.16),
    not _time_utc (see README) nor the outcome (_pset_runtime, _failed, _exc_txt)."""
    client = request.getfixturevalue("dask_client") if where == "dask" else None
    df = _run_on(where, workers.show_pset, ps.plist("a", [1, 2]), client)
    expected = ["a", "_run_id", "_pset_id", "_calc_dir", "_pset_hash", "_pset_seq", "_run_seq",
                "_exec_host"]
    assert [c for c in df.columns if c in expected] == expected  # the column order
    for _, row in df.iterrows():
        assert row["seen_keys"].split(",") == expected
        assert row["seen_host"] == row["_exec_host"]


def test_print_of_the_pset_in_func_matches_the_row():
    """What func prints of its pset equals the row's values of those keys (capture_logs)."""
    code = textwrap.dedent("""
        import psweep as ps

        def func(pset):
            print(pset)
            return {}

        if __name__ == "__main__":
            df = ps.run(func, ps.plist("a", [1, 2]), capture_logs="db")
            skip = ["_time_utc", "_pset_runtime", "_failed", "_exc_txt", "_logs"]
            for _, row in df.iterrows():
                assert row["_logs"] == repr(row.drop(skip).to_dict()) + "\\n", row["_logs"]
            print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_row_built_in_the_pset_equals_a_new_row_and_keeps_func_changes_out():
    """execute_pset(in_place=True) returns the pset itself as the row, equal to a new row
    (keys and their order), and a func that changes its argument does not change the row."""
    from psweep.execute._worker import execute_pset

    def meddle(pset):
        pset["a"] = 99
        pset.pop("b")
        return {"y": 1, "a": 5}

    pset = {"a": 1, "b": 2, "_pset_id": "p"}
    new = execute_pset(meddle, dict(pset))
    built = dict(pset)
    row = execute_pset(meddle, built, in_place=True)
    assert row is built
    assert list(row) == list(new) == ["a", "b", "_pset_id", "y", "_time_utc", "_exec_host",
                                      "_pset_runtime", "_failed", "_exc_txt"]
    changing = {"_time_utc", "_pset_runtime"}
    assert {k: v for k, v in row.items() if k not in changing} == {
        k: v for k, v in new.items() if k not in changing
    }
    assert (row["a"], row["b"], row["_failed"]) == (5, 2, False)
