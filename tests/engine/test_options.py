"""chunksize= and lock_timeout=: typed errors before any work, from ps.run, @ps.sweep and .over."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pandas as pd
import pytest

import psweep as ps
import workers

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BAD_CHUNKSIZES = [(-1, ps.ParamsError), (0, ps.ParamsError), (2.5, ps.ParamsTypeError),
                  (2.0, ps.ParamsTypeError), ("5", ps.ParamsTypeError), (True, ps.ParamsTypeError)]
BAD_LOCK_TIMEOUTS = [("5", ps.ParamsTypeError), (None, ps.ParamsTypeError), (True, ps.ParamsTypeError),
                     (-1, ps.ParamsError), (float("nan"), ps.ParamsError)]


def _snapshot(folder):
    """{relative path: sha1 of the content (None for a folder)} of everything under `folder`."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            found[os.path.relpath(os.path.join(root, name), folder)] = None
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as fd:
                found[os.path.relpath(path, folder)] = hashlib.sha1(fd.read()).hexdigest()
    return found


@pytest.fixture
def study():
    """A calc dir holding one run of square, and its snapshot."""
    ps.run(workers.square, ps.plist("x", [1, 2]))
    return _snapshot("calc")


# chunksize=-1 used to loop for ever submitting empty chunks: the calls run in
# a child process, so that such a regression fails the test instead of hanging it.
BAD_OPTIONS_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
import psweep as ps, workers
from test_options import BAD_CHUNKSIZES, BAD_LOCK_TIMEOUTS

decorated = ps.sweep(workers.square)

def calls(option, value):
    yield "run", lambda: ps.run(workers.square, ps.plist("x", [3]), poolsize=2, **{option: value})
    yield "sweep", lambda: ps.sweep(poolsize=2, **{option: value})(workers.square).over(ps.plist("x", [3]))
    yield "over", lambda: decorated.over(ps.plist("x", [3]), poolsize=2, **{option: value})
    yield "simulate", lambda: decorated.simulate(ps.plist("x", [3]), **{option: value})

if __name__ == "__main__":
    for option, cases in (("chunksize", BAD_CHUNKSIZES), ("lock_timeout", BAD_LOCK_TIMEOUTS)):
        for value, error in cases:
            for how, call in calls(option, value):
                try:
                    call()
                    outcome = "ran"
                except error as exc:
                    outcome = "ok" if repr(value) in str(exc) and "pass" in str(exc) else "vague: " + str(exc)
                except Exception as exc:
                    outcome = type(exc).__name__ + ": " + str(exc)
                print(option, repr(value), how, outcome, flush=True)
"""


def test_bad_chunksize_and_lock_timeout_are_refused_before_any_work(study):
    """Each bad chunksize= and lock_timeout= (from ps.run, @ps.sweep(...), .over(...) and
    .simulate(...)) raises ParamsError/ParamsTypeError naming the value and the fix, and
    nothing is written: no run record, the database and the calc dir unchanged, no dry run."""
    proc = subprocess.run([sys.executable, "-c", BAD_OPTIONS_SCRIPT, TESTS_DIR],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 4 * (len(BAD_CHUNKSIZES) + len(BAD_LOCK_TIMEOUTS)), proc.stdout
    assert [line for line in lines if not line.endswith(" ok")] == []
    assert _snapshot("calc") == study
    assert not os.path.exists("calc.simulate")


def test_lock_timeout_none_says_how_to_wait_for_ever():
    """lock_timeout=None is refused with a message saying to pass float("inf")."""
    with pytest.raises(ps.ParamsTypeError, match=r'float\("inf"\) to wait for ever'):
        ps.run(workers.square, ps.plist("x", [1]), lock_timeout=None)
    assert not os.path.exists("calc")


@pytest.mark.parametrize("value", [0, 5, 2.5, float("inf")])
def test_good_lock_timeouts_run(value):
    """lock_timeout= takes seconds >= 0 and float("inf") (wait for ever)."""
    df = ps.run(workers.square, ps.plist("x", [1, 2]), lock_timeout=value)
    assert df["y"].tolist() == [1, 4]


@pytest.mark.parametrize("value", [1, 3, 100])
def test_good_chunksizes_run(value):
    """chunksize= takes whole numbers >= 1 (numpy ints too)."""
    import numpy as np

    df = ps.run(workers.square, ps.plist("x", range(5)), poolsize=2, chunksize=np.int64(value))
    assert df["y"].tolist() == [0, 1, 4, 9, 16]


# The options step (psweep.engine._options): every keyword resolved once.


def test_run_options_merges_the_old_names_and_writes_nothing():
    """backup_calc_dir= and dask_client= land in backup and executor; calc_dir becomes a str; no writes."""
    import pathlib
    from concurrent.futures import ThreadPoolExecutor

    from steps import options_for

    with ThreadPoolExecutor(1) as pool:
        options = options_for(calc_dir=pathlib.Path("calc"), backup_calc_dir=True, dask_client=pool)
        assert options.executor is pool
    assert options.backup is True
    assert options.calc_dir == "calc"
    assert options.database_basename == "results.pk"
    assert options.progress_class is None and options.git_info is None
    assert os.listdir(".") == []


def test_run_options_resolves_a_016_database_and_its_frame():
    """A calc dir holding only 0.16's database.pk is continued; a 0.16 frame given as df gets today's columns."""
    from helpers import make_016_calc_dir
    from steps import options_for

    old = make_016_calc_dir("calc")
    assert "_failed" not in old.columns and old.index.name != "_time_utc"
    with pytest.warns(UserWarning, match="holds psweep 0.16's database.pk"):
        options = options_for(df=old)
    assert options.database_basename == "database.pk"
    assert isinstance(options.df.index, pd.DatetimeIndex)
    assert not options.df["_failed"].any()
    assert options.df["a"].tolist() == old["a"].tolist()


def test_run_options_never_backs_up_a_dry_run():
    """backup=True with simulate=True resolves to no backup (a dry run changes no database worth a copy)."""
    from steps import options_for

    assert options_for(backup=True).backup is True
    assert options_for(backup=True, simulate=True).backup is False


def test_run_options_refuses_both_executor_and_dask_client():
    """executor= and dask_client= together are one PsweepError, before anything is written."""
    from concurrent.futures import ThreadPoolExecutor

    from steps import options_for

    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(ps.PsweepError, match="either executor= or dask_client="):
            options_for(executor=pool, dask_client=pool)
    assert os.listdir(".") == []
