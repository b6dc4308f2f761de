"""The executor contract: what every way of running psets promises, tested on each.

Serial, psweep's own process pool (``poolsize=``) under each start method, a
user's thread pool and a real Dask ``LocalCluster`` run the same tests: rows
come back in params order; a failing pset, one calling ``sys.exit`` and one
killing its worker process each become a failed row while the run goes on; a
pset's timeout counts from its own start; nothing is left behind.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import os
import subprocess
import tempfile
import threading

import pytest

import psweep as ps
import workers
from helpers import wait_until
from psweep.execute._capture import LOGS_PREFIX

POOLS = ["pool-fork", "pool-spawn", "pool-forkserver"]
EXECUTORS = ["serial", *POOLS, "threads", "dask"]
# Where a pset may kill its worker without killing the driver.
IN_OTHER_PROCESSES = [*POOLS, "dask"]


@pytest.fixture(scope="module")
def dask_setup(tmp_path_factory):
    """A real LocalCluster (two single-threaded worker processes) and its workers' TMPDIR.

    allowed-failures=0: a task that kills its worker fails at once (KilledWorker)
    instead of being tried on three more workers, each one killed and restarted.
    """
    distributed = pytest.importorskip("dask.distributed")
    import dask

    tmpdir = str(tmp_path_factory.mktemp("dask-tmpdir"))
    with pytest.MonkeyPatch.context() as patch, dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        patch.setenv("TMPDIR", tmpdir)  # the worker processes inherit it
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
    client = distributed.Client(cluster)
    yield client, tmpdir
    client.close(timeout=30)
    cluster.close(timeout=30)


def _descendants():
    """Pids of the living processes this one started, directly or not (zombies
    count as gone; the ``ps`` asked does not count)."""
    ps_proc = subprocess.Popen(["ps", "-A", "-o", "pid=", "-o", "ppid=", "-o", "stat="],
                               stdout=subprocess.PIPE, text=True)
    out, _ = ps_proc.communicate(timeout=30)
    children = {}
    for line in out.splitlines():
        pid, ppid, stat = line.split()[:3]
        if int(pid) != ps_proc.pid and not stat.startswith("Z"):
            children.setdefault(int(ppid), []).append(int(pid))
    found, todo = set(), [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _new_threads(before):
    """Threads running now that did not before, but Dask's own (its client
    starts some on first use, to keep)."""
    return [t.name for t in set(threading.enumerate()) - before if not t.name.startswith("Dask-")]


class Executor:
    """One way of running psets: ``run(func, params, **kwargs)`` is ``ps.run`` on it."""

    def __init__(self, name, client=None):
        self.name = name
        self.client = client

    def run(self, func, params, **kwargs):
        if self.name == "serial":
            return ps.run(func, params, **kwargs)
        if self.name in POOLS:  # the start method is the default one, set by the fixture
            return ps.run(func, params, poolsize=2, **kwargs)
        if self.name == "threads":
            with cf.ThreadPoolExecutor(2) as pool:
                return ps.run(func, params, executor=pool, **kwargs)
        return ps.run(func, params, executor=self.client, **kwargs)


@pytest.fixture(params=EXECUTORS)
def where(request):
    """Each executor in turn; pools get their start method as the process default."""
    name = request.param
    if name == "dask":
        client, _ = request.getfixturevalue("dask_setup")
        yield Executor(name, client)
    elif name in POOLS:
        previous = multiprocessing.get_start_method(allow_none=True)
        multiprocessing.set_start_method(name[len("pool-"):], force=True)
        try:
            yield Executor(name)
        finally:
            multiprocessing.set_start_method(previous, force=True)
    else:
        yield Executor(name)


def test_rows_come_back_in_params_order(where):
    """A slow first pset does not end up last: rows are returned and stored in params order."""
    params = [{"x": x, "sleep": 0.3 if x == 0 else 0.0} for x in range(6)]
    df = where.run(workers.slow_square, params)
    assert df["x"].tolist() == list(range(6))
    assert df["y"].tolist() == [x**2 for x in range(6)]
    assert df["_pset_seq"].is_monotonic_increasing
    assert not df["_failed"].any(), df["_exc_txt"].tolist()
    assert ps.df_read("calc/results.pk")["x"].tolist() == list(range(6))


def test_failing_pset_is_a_failed_row_and_the_run_goes_on(where):
    """A pset that raises becomes a failed row with its traceback; every other pset runs."""
    with pytest.warns(UserWarning, match="1 of 6 psets failed"):
        df = where.run(workers.fail_on_3, ps.plist("x", range(6)))
    by_x = df.set_index("x")
    assert by_x["_failed"].tolist() == [x == 3 for x in range(6)]
    assert "ValueError: x is 3" in by_x.loc[3, "_exc_txt"]
    ok = by_x[~by_x["_failed"]]
    assert (ok["y"] == ok.index**2).all()
    assert len(ps.df_read("calc/results.pk")) == 6


@pytest.mark.parametrize("where", IN_OTHER_PROCESSES, indirect=True)
def test_pset_killing_its_worker_is_a_failed_row_and_later_psets_run(where):
    """A pset that kills its worker process is a failed row saying so; the psets after it run."""
    # On Dask a lost chunk fails whole (psweep cannot replace workers it does
    # not own): chunks of one pset, so that only the killer fails there too.
    kwargs = {"chunksize": 1} if where.name == "dask" else {}
    with pytest.warns(UserWarning, match="1 of 8 psets failed"):
        df = where.run(workers.crash_on_3, ps.plist("x", range(8)), **kwargs)
    by_x = df.set_index("x")
    assert sorted(by_x.index) == list(range(8))
    assert by_x["_failed"].tolist() == [x == 3 for x in range(8)], by_x["_exc_txt"].tolist()
    assert "died" in by_x.loc[3, "_exc_txt"]
    assert (by_x.loc[4:, "y"] == by_x.loc[4:].index ** 2).all()


def test_timeout_counts_from_each_psets_own_start(where):
    """timeout=1, one chunk [3 s, 0.5 s, 0.5 s]: only the first pset times out; the others
    start after it was stopped and finish within their own second."""
    params = [{"x": 2, "sleep": 3.0}, {"x": 0, "sleep": 0.5}, {"x": 1, "sleep": 0.5}]
    with pytest.warns(UserWarning, match="1 of 3 psets failed"):
        df = where.run(workers.slow_square, params, timeout=1, chunksize=3)
    by_x = df.set_index("x")
    assert by_x["_failed"].tolist() == [True, False, False], by_x["_exc_txt"].tolist()
    assert "timed out after 1 s" in by_x.loc[2, "_exc_txt"]
    assert by_x.loc[0, "y"] == 0 and by_x.loc[1, "y"] == 1


def test_sys_exit_in_a_pset_is_a_failed_row(where):
    """sys.exit(3) in a pset is a failed row naming SystemExit and its code; nothing is raised."""
    with pytest.warns(UserWarning, match="1 of 4 psets failed"):
        df = where.run(workers.exit_on_2, ps.plist("x", range(4)))
    by_x = df.set_index("x")
    assert by_x["_failed"].tolist() == [False, False, True, False]
    text = by_x.loc[2, "_exc_txt"]
    assert "SystemExit: 3" in text and "exit code 3" in text, text
    assert "exit_on_2" in text  # the traceback into the function
    assert by_x.loc[3, "y"] == 9
    assert len(ps.df_read("calc/results.pk")) == 4


def test_nothing_is_left_behind(where, request, monkeypatch, tmp_path):
    """After a run with captured logs, a timeout and a failing pset: no process or thread
    it started lives on, and no capture file is left in TMPDIR."""
    if where.name in ("pool-spawn", "pool-forkserver"):
        # multiprocessing's helpers (and their temporary folder) live on by design
        multiprocessing.resource_tracker.ensure_running()
        if where.name == "pool-forkserver":
            multiprocessing.forkserver.ensure_running()
    if where.name == "dask":  # its workers' TMPDIR, fixed when the cluster started
        tmpdir = request.getfixturevalue("dask_setup")[1]
    else:
        tmpdir = str(tmp_path / "tmpdir")
        os.mkdir(tmpdir)
    monkeypatch.setenv("TMPDIR", tmpdir)
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() caches its answer
    processes_before = _descendants()
    threads_before = set(threading.enumerate())
    with pytest.warns(UserWarning, match="1 of 2 psets failed"):
        df = where.run(workers.noisy, ps.plist("x", [3, 13]), capture_logs="db", timeout=30)
    assert "python says 3" in df.set_index("x").loc[3, "_logs"]
    assert _descendants() <= processes_before
    wait_until(lambda: not _new_threads(threads_before), 10, "the run's threads to end")
    left = os.listdir(tmpdir)
    if where.name == "dask":  # Dask keeps its own scratch space there
        left = [name for name in left if name.startswith(LOGS_PREFIX)]
    assert left == []
