"""Executors: thread/process pools given by the user, Dask, chunking, progress, Ctrl-C."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import pytest

import psweep as ps
import workers
from helpers import check_only_pset_2_failed, check_timed_out, read_lines, wait_until
from psweep.execute._chunks import CHUNK_SECONDS, next_chunk_size

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DRIVER = os.path.join(TESTS_DIR, "drivers.py")

distributed = pytest.importorskip("dask.distributed")






@pytest.fixture(scope="module")
def dask_client():
    """A real LocalCluster with two worker processes."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_thread_pool_executor():
    """A ThreadPoolExecutor given as executor= runs every pset."""
    with cf.ThreadPoolExecutor(3) as pool:
        df = ps.run(workers.square, ps.plist("x", range(20)), executor=pool)
    assert sorted(df["y"]) == [x**2 for x in range(20)]


def test_spawn_process_pool_executor():
    """A user's spawn ProcessPoolExecutor runs psets in other processes."""
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        df = ps.run(workers.slow_square, [{"x": x, "sleep": 0} for x in range(8)], executor=pool)
    assert sorted(df["x"]) == list(range(8))
    assert os.getpid() not in set(df["pid"])


def test_pool_rows_equal_serial_rows():
    """Rows joined from what pool workers send back (results only) equal the
    serial rows: same columns in the same order, same values; func sees the
    bookkeeping keys in both, and a failure is recorded alike."""
    params = [{"x": x, "x_label": "?"} for x in range(6)]
    frames = {}
    with cf.ThreadPoolExecutor(2) as threads:
        for name, kwargs in {
            "serial": {},
            "pool": {"poolsize": 2},
            "threads": {"executor": threads, "chunksize": 2},
        }.items():
            with pytest.warns(UserWarning, match="1 of 6 psets failed"):
                df = ps.run(workers.echo_bookkeeping, params, calc_dir=f"calc_{name}", **kwargs)
            frames[name] = df.sort_values("x").reset_index(drop=True)
    serial = frames["serial"]
    assert serial["seen_id"].dropna().tolist() == serial["_pset_id"][serial["x"] != 3].tolist()
    volatile = ["_run_id", "_pset_id", "seen_id", "_calc_dir", "_time_utc", "_exec_host",
                "_pset_runtime", "_exc_txt"]
    for name in ("pool", "threads"):
        other = frames[name]
        assert list(other.columns) == list(serial.columns), name
        assert (other["seen_id"].dropna() == other["_pset_id"][other["x"] != 3]).all(), name
        assert other["_exc_txt"].notna().tolist() == serial["_exc_txt"].notna().tolist(), name
        assert other.drop(columns=volatile).equals(serial.drop(columns=volatile)), name


def test_poolsize_and_executor_together_is_an_error():
    """poolsize and executor exclude each other, before any work."""
    with cf.ThreadPoolExecutor(1) as pool, pytest.raises(ps.PsweepError, match="either"):
        ps.run(workers.square, ps.plist("x", [1]), poolsize=2, executor=pool)
    assert not os.path.exists("calc")


def test_unknown_executor_is_a_type_error():
    """An executor= of an unknown kind is rejected with what to pass."""
    with pytest.raises(TypeError, match="concurrent.futures.Executor"):
        ps.run(workers.square, ps.plist("x", [1]), executor=object())


def test_chunk_size_adapts_to_pset_runtime():
    """Chunks hold ~CHUNK_SECONDS of work, start at 1, and balance at the end."""
    assert next_chunk_size(None, 1000, 2) == 1
    assert next_chunk_size(CHUNK_SECONDS / 10, 1000, 2) == 10
    assert next_chunk_size(1e-6, 20_000, 2) == 5000
    assert next_chunk_size(10.0, 1000, 2) == 1


def test_dask_results_failures_and_logs(dask_client):
    """On a Dask LocalCluster: results, failure rows and captured logs come back."""
    with pytest.warns(UserWarning, match="1 of 4"):
        df = ps.run(workers.noisy, ps.plist("x", [1, 2, 3, 13]), executor=dask_client,
                    capture_logs="db")
    by_x = df.set_index("x")
    assert by_x.loc[2, "y"] == 2
    assert by_x.loc[13, "_failed"] and "unlucky" in by_x.loc[13, "_exc_txt"]
    assert "python says 3" in by_x.loc[3, "_logs"]
    assert "child says 3" in by_x.loc[3, "_logs"]


def test_dask_client_alias_and_decorated_module_function(dask_client):
    """dask_client= works, with a decorated function from a module."""
    df = workers.decorated_square.over(ps.plist("x", range(6)), dask_client=dask_client)
    assert sorted(df["y"]) == [x**2 for x in range(6)]
    assert os.getpid() not in set(df["pid"])


def test_dask_decorated_function_in_main_script():
    """A decorated function in a script's __main__ runs on a LocalCluster."""
    with open("study.py", "w") as fd:
        fd.write(textwrap.dedent("""
            import os
            import psweep as ps
            from dask.distributed import Client, LocalCluster

            @ps.sweep(calc_dir="calc")
            def f(pset):
                return {"y": pset["x"] + 1, "pid": os.getpid()}

            if __name__ == "__main__":
                with LocalCluster(n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster, Client(cluster) as client:
                    df = f.over(ps.plist("x", range(5)), executor=client)
                assert sorted(df["y"]) == [1, 2, 3, 4, 5], df
                assert os.getpid() not in set(df["pid"])
                print("ok")
        """))
    proc = subprocess.run([sys.executable, "study.py"], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("ok")


def test_progress_bar_shows_counts_and_failures():
    """progress=True draws a tqdm bar with the total and the failed count."""
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {TESTS_DIR!r})
        import warnings; warnings.simplefilter("ignore")
        import psweep as ps, workers
        ps.run(workers.fail_on_3, ps.plist("x", range(6)), progress=True)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "6/6" in proc.stderr
    assert "failed=1" in proc.stderr


def test_progress_off_when_not_a_terminal():
    """By default no bar is drawn when stderr is not a terminal."""
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {TESTS_DIR!r})
        import psweep as ps, workers
        ps.run(workers.square, ps.plist("x", range(6)))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


@pytest.mark.parametrize("mode", ["serial", "pool", "dask"])
def test_sigint_records_finished_rows_and_reraises(mode):
    """Ctrl-C (a real SIGINT) stops the run, keeps every finished row, leaves no journal behind."""
    args = [sys.executable, DRIVER, "calc", "0", "2000", "--sleep", "0.01", "--log", "done.log"]
    if mode == "pool":
        args += ["--poolsize", "2"]
    if mode == "dask":
        args += ["--dask", "2"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: len(read_lines("done.log")) >= 50, 120, "50 finished psets")
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in stderr
    finished = set(read_lines("done.log"))
    df = ps.df_read("calc/results.pk")
    assert df["_pset_id"].is_unique
    assert 0 < len(df) < 2000
    # a row is recorded once the pset's result reached the driver: all but
    # those in flight when the workers were stopped
    lost = finished - set(df["_pset_id"])
    assert len(lost) <= (1 if mode == "serial" else 60), len(lost)
    assert os.listdir("calc/.psweep/journal/results.pk") == []


def test_dask_unpicklable_result_fails_only_its_pset(dask_client):
    """On Dask, a result that cannot be pickled fails its pset only, in a chunk of 5 too."""
    with pytest.warns(UserWarning, match="1 of 5"):
        df = ps.run(workers.unpicklable_on_2, ps.plist("x", range(5)), executor=dask_client,
                    chunksize=5)
    check_only_pset_2_failed(df)


# A study script run as `python study.py METHOD`: the start method is set as
# the global default (poolsize=) and through get_context (executor=).
GUARDED_STUDY = """
import concurrent.futures as cf, multiprocessing, os, sys
sys.path.insert(0, sys.argv[2])
import psweep as ps, workers

if __name__ == "__main__":
    method = sys.argv[1]
    multiprocessing.set_start_method(method)

    def plain(pset):
        return {"y": pset["x"] + 1}

    @ps.sweep
    def decorated(pset):
        return {"y": pset["x"] + 1}

    ctx = multiprocessing.get_context(method)
    for name, func in (("plain", plain), ("decorated", decorated), ("module", workers.square)):
        for how in ("poolsize", "executor"):
            calc = f"calc_{name}_{how}"
            pool = cf.ProcessPoolExecutor(2, mp_context=ctx) if how == "executor" else None
            try:
                df = ps.run(func, ps.plist("x", range(4)), calc_dir=calc,
                            **({"executor": pool} if pool else {"poolsize": 2}))
                outcome = "ran" if len(df) == 4 and not df["_failed"].any() else "FAILED-ROWS"
            except ps.SweepPickleError as exc:
                outcome = "refused" if "No pset ran" in str(exc) or "module" in str(exc) else "?"
            if pool is not None:
                pool.shutdown(cancel_futures=True)
            print(name, how, outcome, os.path.exists(calc), flush=True)
"""


def _run_study(code, *args, script=True):
    if script:
        with open("study.py", "w") as fd:
            fd.write(code)
        argv = [sys.executable, "study.py", *args]
    else:  # notebook-like: code without a file, as a kernel runs cells
        argv = [sys.executable, "-c", code, *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=240)


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_functions_workers_cannot_import_are_refused_before_any_work(method):
    """Under each start method, a function under the main guard (plain or decorated, poolsize=
    or a ProcessPoolExecutor) either runs or raises SweepPickleError with no calc dir made;
    under spawn/forkserver the plain one is refused; a module function runs everywhere."""
    proc = _run_study(GUARDED_STUDY, method, TESTS_DIR)
    assert proc.returncode == 0, proc.stderr
    lines = {tuple(line.split()[:2]): line.split()[2:] for line in proc.stdout.splitlines()}
    assert len(lines) == 6, proc.stdout
    for (name, how), (outcome, exists) in lines.items():
        assert outcome in ("ran", "refused"), (name, how, outcome)
        assert exists == ("True" if outcome == "ran" else "False"), (name, how)
    assert lines[("module", "poolsize")][0] == lines[("module", "executor")][0] == "ran"
    if method != "fork":
        assert lines[("plain", "poolsize")][0] == lines[("plain", "executor")][0] == "refused"
    assert "Traceback" not in proc.stderr, proc.stderr


NOTEBOOK_CELLS = """
import concurrent.futures as cf, multiprocessing, os, sys
import psweep as ps
method = sys.argv[1]

def cell_func(pset):
    return {"y": pset["x"] + 1}

for how in ("poolsize", "executor"):
    pool = None
    if how == "executor":
        pool = cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method))
    else:
        multiprocessing.set_start_method(method, force=True)
    try:
        df = ps.run(cell_func, ps.plist("x", range(4)), calc_dir="calc_" + how,
                    **({"executor": pool} if pool else {"poolsize": 2}))
        outcome = "ran" if len(df) == 4 and not df["_failed"].any() else "FAILED-ROWS"
    except ps.SweepPickleError as exc:
        outcome = "refused" if "Dask" in str(exc) else "?"
    if pool is not None:
        pool.shutdown(cancel_futures=True)
    print(how, outcome, os.path.exists("calc_" + how), flush=True)
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_notebook_function_is_refused_or_runs(method):
    """A function defined in exec'd code (as in a notebook cell) runs under fork and is refused
    under spawn/forkserver with SweepPickleError pointing to a module or Dask, no calc dir made."""
    proc = _run_study(NOTEBOOK_CELLS, method, script=False)
    assert proc.returncode == 0, proc.stderr
    expected = "ran True" if method == "fork" else "refused False"
    assert proc.stdout.split("\n")[:2] == [f"poolsize {expected}", f"executor {expected}"], proc.stdout


UNGUARDED_STUDY = """
import sys
import psweep as ps

def f(pset):
    return {"y": pset["x"] + 1}

import multiprocessing
multiprocessing.set_start_method(sys.argv[1], force=True)
df = ps.run(f, ps.plist("x", range(4)), poolsize=2)
print("ran", len(df))
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_script_without_main_guard_is_refused_or_runs(method):
    """A script that runs its study at import (no main guard) works under fork and gets one
    SweepPickleError under spawn/forkserver, with no calc dir made."""
    proc = _run_study(UNGUARDED_STUDY, method)
    if method == "fork":
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "ran 4"
    else:
        assert proc.returncode != 0
        assert "SweepPickleError" in proc.stderr and "__main__" in proc.stderr, proc.stderr
        assert "No pset ran" in proc.stderr, proc.stderr
        assert not os.path.exists("calc")


def _process_table():
    """{pid: (ppid, state)} of every process, from ps (Linux and macOS)."""
    out = subprocess.run(["ps", "-A", "-o", "pid=", "-o", "ppid=", "-o", "stat="],
                         capture_output=True, text=True, timeout=30).stdout
    table = {}
    for line in out.splitlines():
        pid, ppid, stat = line.split()[:3]
        table[int(pid)] = (int(ppid), stat)
    return table


def _descendants(pid):
    """Pids of all living descendants of `pid` (zombies count as gone)."""
    table = _process_table()
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, stat) in table.items():
            if ppid == parent and child not in found and not stat.startswith("Z"):
                found.add(child)
                todo.append(child)
    return found


def _alive(pids):
    table = _process_table()
    return {p for p in pids if p in table and not table[p][1].startswith("Z")}


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_workers_exit_soon_after_their_driver_is_sigkilled(method, monkeypatch):
    """SIGKILL of a driver running poolsize=2: every process it started is gone within 10 s."""
    # The killed driver cannot remove its multiprocessing temp folder (forkserver's
    # socket): give it a TMPDIR of its own, short enough for a socket path, removed here.
    tmpdir = tempfile.mkdtemp(prefix="psweep-test-")
    monkeypatch.setenv("TMPDIR", tmpdir)
    try:
        proc = subprocess.Popen([sys.executable, DRIVER, "calc", "0", "400", "--sleep", "0.05",
                                 "--poolsize", "2", "--log", "done.log", "--start-method", method],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: len(read_lines("done.log")) >= 10, 120, "10 finished psets")
            wait_until(lambda: len(_descendants(proc.pid)) >= 2, 30, "two pool workers")
            children = _descendants(proc.pid)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        wait_until(lambda: not _alive(children), 10, f"the workers {children} to exit")
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def test_dask_hung_pset_is_recorded_timed_out():
    """On a real LocalCluster, a pset past timeout= is a failed row at once (its thread
    runs on); the others run; the run does not wait for the hung thread."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        params = [{"x": x, "hang": 4} for x in range(5)]
        t0 = time.monotonic()
        with pytest.warns(UserWarning, match="1 of 5"):
            df = ps.run(workers.hang_on_2, params, executor=client, timeout=1)
        assert time.monotonic() - t0 < 3.5
        check_timed_out(df, 2, 1)
        assert "runs on in a thread of its own" in df.set_index("x").loc[2, "_exc_txt"]
        wait_until(lambda: not client.futures, 30, "the futures to be released")


def test_thread_pool_hung_pset_is_recorded_timed_out():
    """With a ThreadPoolExecutor, a pset past timeout= is a failed row; the run goes on."""
    with cf.ThreadPoolExecutor(2) as pool, pytest.warns(UserWarning, match="1 of 5"):
        df = ps.run(workers.hang_on_2, [{"x": x, "hang": 3} for x in range(5)], executor=pool,
                    timeout=1)
    check_timed_out(df, 2, 1)


def _slow_first(n=8):
    return [{"x": x, "sleep": 0.6 if x == 0 else 0.0} for x in range(n)]


@pytest.mark.parametrize("how", ["pool", "threads", "pool-folding-often"])
def test_rows_come_back_and_are_stored_in_params_order(how, monkeypatch):
    """A slow first pset does not end up last: the run's rows are in _pset_seq (params) order
    in the returned frame and in results.pk, also when folds happened while it ran."""
    if how == "pool-folding-often":
        import psweep.engine._recorder

        monkeypatch.setattr(psweep.engine._recorder, "MIN_COMPACT_INTERVAL", 0.0)
    if how == "threads":
        with cf.ThreadPoolExecutor(2) as pool:
            df = ps.run(workers.slow_square, _slow_first(), executor=pool)
    else:
        df = ps.run(workers.slow_square, _slow_first(), poolsize=2)
    assert df["x"].tolist() == list(range(8))
    assert df["_pset_seq"].is_monotonic_increasing
    assert ps.df_read("calc/results.pk")["x"].tolist() == list(range(8))
    # a second run's rows follow, in their own order
    # (save=False returns the database plus the new rows, as in psweep 0.16)
    df = ps.run(workers.slow_square, _slow_first(4), poolsize=2, save=False)
    assert df["x"].tolist() == list(range(8)) + list(range(4))


def test_dask_rows_are_stored_in_params_order(dask_client):
    """On Dask too, rows are returned and stored in params order."""
    df = ps.run(workers.slow_square, _slow_first(), executor=dask_client)
    assert df["x"].tolist() == list(range(8))
    assert ps.df_read("calc/results.pk")["x"].tolist() == list(range(8))


STUCK_STUDY = """
import multiprocessing, os, sys
sys.path.insert(0, sys.argv[1])
import psweep as ps, workers
import psweep.execute._executors as executors, psweep.execute._pools as pools
if __name__ == "__main__":
    # Shorter graces than the defaults (5, 2, 3 s), the same steps: the
    # driver's deadline, then SIGTERM, which the pset defers, then SIGKILL.
    executors.HARD_STOP_GRACE, executors.INTERRUPT_GRACE, pools.STOP_GRACE = 2.0, 0.5, 0.5
    multiprocessing.set_start_method(sys.argv[2])
    params = [{"x": x, "pidfile": os.path.abspath("worker.pid")} for x in range(3)]
    kwargs = {"timeout": 1} if sys.argv[3] == "timeout" else {}
    df = ps.run(workers.defer_sigterm_on_0, params, poolsize=2, **kwargs)
    print("returned", df["_failed"].tolist(), flush=True)
"""


def _worker_pid():
    with open("worker.pid") as fd:
        return int(fd.read())


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
@pytest.mark.parametrize("how", ["timeout", "ctrl-c"])
def test_worker_deferring_sigterm_does_not_keep_the_driver_alive(how, method):
    """A pset that defers SIGTERM (a checkpoint handler) while stuck is stopped anyway when
    psweep stops its worker (at its timeout, or on Ctrl-C): SIGKILL follows after a grace;
    the driver process exits and the worker is gone."""
    proc = subprocess.Popen([sys.executable, "-c", STUCK_STUDY, TESTS_DIR, method, how],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: os.path.exists("worker.pid") and os.path.getsize("worker.pid"), 120,
                   "the stuck pset to start")
        pid = _worker_pid()
        if how == "ctrl-c":
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    if how == "timeout":
        assert proc.returncode == 0, stderr
        assert stdout.strip() == "returned [True, False, False]", stdout
    else:
        assert proc.returncode != 0
        assert "KeyboardInterrupt" in stderr, stderr
    wait_until(lambda: not _alive({pid}), 10, f"the stuck worker {pid} to be gone")


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_stopping_a_pool_kills_a_worker_that_defers_sigterm(method, monkeypatch):
    """psweep's way of stopping its pool (used at timeouts, Ctrl-C, errors and the end of a run)
    ends a worker whose pset defers SIGTERM: SIGKILL follows after STOP_GRACE."""
    import psweep.execute._pools
    from psweep.execute._pools import stop_workers

    grace = 1.0  # STOP_GRACE is 3 s
    monkeypatch.setattr(psweep.execute._pools, "STOP_GRACE", grace)
    pool = cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method))
    try:
        pool.submit(workers.defer_sigterm_on_0, {"x": 0, "pidfile": os.path.abspath("worker.pid")})
        wait_until(lambda: os.path.exists("worker.pid") and os.path.getsize("worker.pid"), 60,
                   "the stuck pset to start")
        pid = _worker_pid()
        t0 = time.monotonic()
        stop_workers(pool)
        assert time.monotonic() - t0 < 3 * grace
        assert not _alive({pid})
    finally:
        for process in list((pool._processes or {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)


CAPTURING_DRIVER = """
import sys
sys.path.insert(0, sys.argv[1])
import psweep as ps, workers
if __name__ == "__main__":
    params = [{"x": x, "sleep": 0.2, "log": "done.log"} for x in range(200)]
    ps.run(workers.logged_square, params, poolsize=2, capture_logs="db")
"""


def test_ctrl_c_leaves_no_capture_file_in_tmpdir(tmp_path, monkeypatch):
    """Ctrl-C during a pool run with capture_logs="db" stops it and leaves nothing in TMPDIR."""
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    proc = subprocess.Popen([sys.executable, "-c", CAPTURING_DRIVER, TESTS_DIR],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: len(read_lines("done.log")) >= 4, 120, "finished psets")
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert "KeyboardInterrupt" in stderr
    assert os.listdir(tmpdir) == []


def test_dask_psets_queued_on_a_killed_worker_run_again_and_only_the_killer_fails():
    """On Dask, psets that were only queued on the worker a pset killed are retried (Dask's nanny
    restarts the worker), not recorded as failed; the pset that kills its worker again alone fails."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                     dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        # The wait's bound: a nanny that never brings the worker back (seen once
        # under load) leaves the tasks pending; closing the cluster ends them.
        watchdog = threading.Timer(240, cluster.close)
        watchdog.start()
        try:
            with pytest.warns(UserWarning, match="1 of 8 psets failed"):
                df = ps.run(workers.crash_on_3, ps.plist("x", range(8)), dask_client=client, chunksize=1)
        finally:
            watchdog.cancel()
    by_x = df.set_index("x").sort_index()
    assert by_x["_failed"].tolist() == [x == 3 for x in range(8)], by_x["_exc_txt"].tolist()
    assert (by_x.loc[4:, "y"] == by_x.loc[4:].index ** 2).all()
