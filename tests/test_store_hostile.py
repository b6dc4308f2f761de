"""Tests of psweep/store.py on hostile ground (issue 12).

Deleted lock files, racing readers, prefix-sharing databases, read-only and
full disks, unreadable journals. Real files, real filelock, real processes.
"""

from __future__ import annotations

import os
import subprocess
import sys

import psweep as ps
from helpers import wait_until

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(TESTS_DIR, "drivers.py")


def start_driver(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, DRIVER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_script(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen) -> None:
    """Kill `proc` if it still runs and reap it."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


def start_together(procs: list[subprocess.Popen]) -> None:
    """Wait until every driver printed "ready", then let them all go."""
    for proc in procs:
        wait_until(lambda proc=proc: proc.stdout.readline().strip() == "ready", 120, "driver start")
    open("go", "w").close()


# -- item 3: a deleted lock file --------------------------------------------------

DELETE_LOCK = """
import os, sys, time
path = sys.argv[1]
print("deleting", flush=True)
while not os.path.exists("stop"):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    time.sleep(0.005)
"""


def test_lock_file_deleted_every_5_ms_loses_no_rows():
    """6 drivers x 30 runs x 10 psets while another process deletes the lock file every 5 ms: all 1,800 rows, ids and seqs unique."""
    n_drivers, n_runs, n_psets = 6, 30, 10
    deleter = start_script(DELETE_LOCK, "calc/results.pk.lock")
    procs = []
    try:
        assert deleter.stdout.readline().strip() == "deleting"
        procs = [
            start_driver("calc", str(1000 * i), str(n_psets), "--runs", str(n_runs),
                         "--sleep", "0", "--go", "go")
            for i in range(n_drivers)
        ]
        start_together(procs)
        for proc in procs:
            assert proc.wait(timeout=300) == 0, proc.stderr.read()
    finally:
        open("stop", "w").close()
        for proc in [deleter, *procs]:
            stop(proc)
    df = ps.df_read("calc/results.pk")
    assert len(df) == n_drivers * n_runs * n_psets
    assert df["_pset_id"].is_unique
    assert df["_pset_seq"].is_unique
    run_seqs = df.groupby("_run_id")["_run_seq"].agg(["nunique", "first"])
    assert len(run_seqs) == n_drivers * n_runs
    assert (run_seqs["nunique"] == 1).all()
    assert run_seqs["first"].is_unique
