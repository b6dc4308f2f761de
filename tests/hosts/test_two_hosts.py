"""Drivers on two hosts sharing one calc dir: nothing lost or doubled, live runs left alone.

Real processes with host names of their own (``unshare --uts``) on two
``bindfs`` FUSE mounts of one folder, with node-local and with shared locks
(see conftest.py).
"""

from __future__ import annotations

import glob
import os
import select
import signal
import time

import pytest

from helpers import DRIVER, read_lines, wait_until
from psweep.store._journal import read_journal
from psweep._schema import journal_run_id

import psweep as ps

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

DRIVERS_PER_HOST = 2
RUNS = 3
PSETS = 12


@pytest.mark.parametrize("mode", ["node-local", "shared"])
def test_drivers_on_two_hosts_lose_and_double_nothing(hosts, mode):
    """K drivers on two hosts, appending and folding at once, end with every row once and unique seqs."""
    mount_a, mount_b = hosts.mounts(mode)
    name = f"calc-sum-{mode}"
    go = os.path.join(hosts.base, f"go-{mode}")
    procs = []
    for i in range(2 * DRIVERS_PER_HOST):
        host, mount = ("nodeA", mount_a) if i % 2 == 0 else ("nodeB", mount_b)
        args = [os.path.join(mount, name), str(100 * i), str(PSETS), "--sleep", "0.01"]
        procs.append(hosts.start(host, DRIVER, *args, "--runs", str(RUNS), "--go", go))
    for proc in procs:
        _wait_ready(proc, 60)
    open(go, "w").close()
    for proc in procs:
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
    df = ps.df_read(os.path.join(hosts.real, name))
    assert len(df) == 2 * DRIVERS_PER_HOST * RUNS * PSETS
    assert df["_pset_id"].is_unique
    assert df["_pset_seq"].is_unique
    assert df.groupby("_run_id")["_run_seq"].nunique().eq(1).all()
    assert df.drop_duplicates("_run_id")["_run_seq"].is_unique
    assert (df["x"].value_counts() == RUNS).all() and df["x"].nunique() == 2 * DRIVERS_PER_HOST * PSETS
    assert set(df["_exec_host"]) == {"nodeA", "nodeB"}
    assert not glob.glob(os.path.join(hosts.real, name, ".psweep", "journal", "*", "*"))


def _wait_ready(proc, timeout: float) -> None:
    """Wait (at most `timeout` s) until the driver `proc` prints its first line."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready and proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.poll() else ""


def _journal_of_one_run(calc_dir: str) -> str | None:
    paths = glob.glob(os.path.join(calc_dir, ".psweep", "journal", "results.pk", "*.jnl2"))
    return paths[0] if len(paths) == 1 else None


def _state_line(hosts, host: str, calc_dir: str, run_id: str, env: dict[str, str]) -> str:
    """The line of run `run_id` in ``psweep runs`` as host `host` shows it."""
    out = hosts.run(host, "-m", "psweep", "runs", calc_dir, env=env)
    lines = [line for line in out.splitlines() if run_id in line]
    assert len(lines) == 1, out
    return lines[0]


def test_live_run_of_another_host_is_left_alone_and_folded_once_dead(hosts):
    """Node-local locks: host A neither folds nor calls killed B's live run; past the timeout it folds it."""
    mount_a, mount_b = hosts.mounts("node-local")
    timeout = 8.0  # the heartbeat every 1.3 s; generous for a loaded machine
    env = {"PSWEEP_LIVENESS_TIMEOUT": str(timeout)}
    calc_a, calc_b = (os.path.join(mount, "calc-live") for mount in (mount_a, mount_b))
    real = os.path.join(hosts.real, "calc-live")
    log = os.path.join(hosts.base, "done-by-b.log")
    args = [calc_b, "1000", "2000", "--sleep", "0.02", "--log", log]
    b = hosts.start("nodeB", DRIVER, *args, env=env)
    wait_until(lambda: _journal_of_one_run(real) is not None, 60, "host B's journal")
    journal = _journal_of_one_run(real)
    run_b = journal_run_id(journal)
    wait_until(lambda: len(read_lines(log)) >= 5, 60, "rows of host B")
    # Host A runs a whole study (two folds) while B runs: B's journal stays.
    hosts.run("nodeA", DRIVER, calc_a, "0", "20", env=env)
    assert os.path.exists(journal) and b.poll() is None
    seen = len(read_lines(log))
    wait_until(lambda: len(read_lines(log)) > seen + 20, 30, "host B going on")
    assert "running" in _state_line(hosts, "nodeA", calc_a, run_b, env)
    # B is killed while another run of host A goes on: that one ends whole.
    a2 = hosts.start("nodeA", DRIVER, calc_a, "500", "40", "--sleep", "0.05", env=env)
    _wait_ready(a2, 60)
    b.send_signal(signal.SIGKILL)
    b.communicate(timeout=30)
    killed_at = time.monotonic()
    in_journal = {row["_pset_id"] for row in read_journal(journal, live=False)}
    done = set(read_lines(log))
    _, err = a2.communicate(timeout=90)
    assert a2.returncode == 0, err
    # Past the timeout, host A takes B's run for dead: folds its rows, and says killed.
    time.sleep(max(0.0, timeout + 2 - (time.monotonic() - killed_at)))
    hosts.run("nodeA", "-c", f"import psweep as ps; ps.df_read({calc_a!r})", env=env)
    assert not os.path.exists(journal)
    df = ps.df_read(real)
    rows_b = set(df.loc[df["_run_id"] == run_b, "_pset_id"])
    assert len(rows_b) == (df["_run_id"] == run_b).sum()
    # Every row B recorded is there: all it logged but the pset in flight.
    assert in_journal <= rows_b <= done and len(done - rows_b) <= 1
    assert sorted(df.loc[df["_run_id"] != run_b, "x"]) == [*range(20), *range(500, 540)]
    assert "killed" in _state_line(hosts, "nodeA", calc_a, run_b, env)


def test_check_says_the_calc_dir_is_on_fuse_and_lock_sharing_cannot_be_told(hosts):
    """psweep check on a FUSE mount names the file system and says honestly that lock sharing cannot be told."""
    mount_a, _ = hosts.mounts("node-local")
    calc = os.path.join(mount_a, "calc-check")
    ps.run(lambda pset: {"b": 1}, ps.plist("a", [1]), calc_dir=calc)
    out = hosts.run("nodeA", "-m", "psweep", "check", calc)
    assert f"file system: fuse (network or FUSE: other hosts may share it), mounted at {mount_a}" in out
    assert "locks seen by other hosts: cannot be told" in out
    assert "several hosts: " in out
