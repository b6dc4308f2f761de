"""timeout=: a pset's clock starts when it starts; infinity means no limit; bad values are refused."""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading
import time

import pytest

import psweep as ps
import workers
from helpers import check_timed_out

distributed = pytest.importorskip("dask.distributed")

# A hung pset first, then quick ones queued behind it on the only worker.
HUNG_FIRST = [{"x": 2, "hang": 4}, {"x": 0}, {"x": 1}]


def test_thread_pool_psets_queued_behind_a_hung_one_run():
    """A thread pool of 1, [hang, quick, quick], timeout=1: only the hung pset times out
    (its clock started when it started); the quick ones run after it and succeed."""
    with cf.ThreadPoolExecutor(1) as pool, pytest.warns(UserWarning, match="1 of 3"):
        df = ps.run(workers.hang_on_2, HUNG_FIRST, executor=pool, timeout=1)
    check_timed_out(df, 2, 1)
    text = df.set_index("x").loc[2, "_exc_txt"]
    assert "runs on in a thread of its own" in text, text
    assert "hang_on_2" in text  # where it was when it timed out


def test_dask_psets_queued_behind_a_hung_one_run():
    """A Dask LocalCluster with one worker thread, [hang, quick, quick], timeout=1: only the
    hung pset times out; the quick ones run and succeed; the run does not wait for the hung one."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        t0 = time.monotonic()
        with pytest.warns(UserWarning, match="1 of 3"):
            df = ps.run(workers.hang_on_2, HUNG_FIRST, executor=client, timeout=1)
        assert time.monotonic() - t0 < 3.5
        check_timed_out(df, 2, 1)
        assert "hang_on_2" in df.set_index("x").loc[2, "_exc_txt"]


def test_dask_function_sees_its_worker_under_timeout():
    """With timeout= on Dask the function runs in a thread of its own that still
    knows its Dask worker (distributed.get_worker works)."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        df = ps.run(workers.dask_worker_address, ps.plist("x", [1]), executor=client, timeout=30)
    assert df["address"].iloc[0].startswith(("tcp://", "inproc://"))


def test_serial_run_off_the_main_thread_bounds_psets():
    """A serial run from a thread other than the main one bounds each pset too (SIGALRM
    cannot): the hung pset is a failed row, the others run."""
    outcome = {}

    def study():
        with pytest.warns(UserWarning, match="1 of 4"):
            outcome["df"] = ps.run(workers.hang_on_2, [{"x": x, "hang": 3} for x in range(4)],
                                   timeout=1)

    thread = threading.Thread(target=study)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    check_timed_out(outcome["df"], 2, 1)


@pytest.mark.parametrize("kwargs", [{}, {"poolsize": 2}, {"executor": "threads"}],
                         ids=["serial", "pool", "threads"])
@pytest.mark.parametrize("value", [float("inf"), 1e12])
def test_infinite_timeout_means_no_limit(kwargs, value):
    """timeout=float("inf") (or any timeout too long to arm) means no limit: every pset runs."""
    if kwargs.get("executor") == "threads":
        with cf.ThreadPoolExecutor(2) as pool:
            df = ps.run(workers.slow_square, ps.plist("x", range(4)), executor=pool, timeout=value)
    else:
        df = ps.run(workers.slow_square, ps.plist("x", range(4)), timeout=value, **kwargs)
    assert not df["_failed"].any(), df["_exc_txt"].tolist()
    assert df["y"].tolist() == [0, 1, 4, 9]


@pytest.mark.parametrize("value, error", [
    (float("nan"), ps.ParamsError), (0, ps.ParamsError), (-1, ps.ParamsError),
    (-float("inf"), ps.ParamsError), (True, ps.ParamsTypeError), ("5", ps.ParamsTypeError),
    ([1], ps.ParamsTypeError),
])
def test_bad_timeout_is_refused_before_any_work(value, error):
    """NaN, 0, negatives are a ParamsError, bools and strings a ParamsTypeError, naming the
    value and the fix, before anything is written."""
    with pytest.raises(error, match=r"timeout=.*None or float\(\"inf\"\) for no limit"):
        ps.run(workers.square, ps.plist("x", [1]), timeout=value, poolsize=2)
    assert not os.path.exists("calc")


def test_numpy_timeout_is_accepted():
    """A numpy number works as timeout= (a value from an array or a config)."""
    import numpy as np

    df = ps.run(workers.square, ps.plist("x", [1, 2]), timeout=np.int64(5))
    assert not df["_failed"].any()
