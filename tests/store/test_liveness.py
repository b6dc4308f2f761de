"""Signs of life, the lease and mount descriptions: the parts that let several hosts share a calc dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

import psweep as ps
from psweep.errors import LockTimeoutError
from psweep.store._journal import journal_is_live
from psweep.store._lease import Lease
from psweep.store._liveness import (
    LIVENESS_ENV,
    keep_alive,
    liveness_timeout,
    server_now,
    stop_keeping_alive,
    this_host,
)
from psweep.store._lock import DatabaseLock
from psweep.store._mounts import Mount, is_network, lock_sharing, parse_mountinfo


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid


def _sign(path, host: str, pid: int, age: float = 0.0) -> None:
    with open(path, "w") as fobj:
        json.dump({"host": host, "pid": pid}, fobj)
    then = time.time() - age
    os.utime(path, (then, then))


@pytest.fixture
def short_timeout(monkeypatch):
    monkeypatch.setenv(LIVENESS_ENV, "60")


def test_liveness_timeout_rejects_a_bad_value_by_name(monkeypatch, tmp_path):
    """A PSWEEP_LIVENESS_TIMEOUT that is no positive number is an error naming it, before a run writes anything."""
    monkeypatch.setenv(LIVENESS_ENV, "soon")
    with pytest.raises(ValueError, match="PSWEEP_LIVENESS_TIMEOUT='soon'"):
        liveness_timeout()
    with pytest.raises(ValueError, match="PSWEEP_LIVENESS_TIMEOUT='soon'"):
        ps.run(lambda pset: {}, ps.plist("a", [1]), calc_dir=str(tmp_path / "calc"))
    assert not (tmp_path / "calc").exists()
    monkeypatch.setenv(LIVENESS_ENV, "2.5")
    assert liveness_timeout() == 2.5


def test_server_now_is_the_time_files_get_in_the_folder(tmp_path):
    """server_now reads the file server's clock from a file it touches (here: this host's clock)."""
    assert abs(server_now(str(tmp_path)) - time.time()) < 5
    assert os.listdir(tmp_path) == []


def test_journal_of_another_host_lives_while_its_sign_is_fresh(tmp_path, short_timeout):
    """An unlocked journal whose sign names another host is live until the sign is older than the timeout."""
    journal = tmp_path / "run.jnl"
    journal.write_bytes(b"")
    assert not journal_is_live(str(journal))  # no sign: the lock alone tells, as before
    _sign(f"{journal}.alive", "another-host", 1)
    assert journal_is_live(str(journal))
    _sign(f"{journal}.alive", "another-host", 1, age=61)
    assert not journal_is_live(str(journal))


def test_journal_of_this_host_whose_pid_is_gone_is_dead_at_once(tmp_path, short_timeout):
    """On its own host, a sign whose pid does not exist is dead however fresh."""
    journal = tmp_path / "run.jnl"
    journal.write_bytes(b"")
    _sign(f"{journal}.alive", this_host(), _dead_pid())
    assert not journal_is_live(str(journal))
    _sign(f"{journal}.alive", this_host(), os.getpid())
    assert journal_is_live(str(journal))


def test_heartbeat_refreshes_the_files_it_keeps_alive(tmp_path, monkeypatch):
    """keep_alive makes a daemon thread refresh a file's mtime every timeout/6 s; it ends with the last file."""
    monkeypatch.setenv(LIVENESS_ENV, "0.6")
    path = tmp_path / "sign"
    path.write_bytes(b"")
    os.utime(path, (1000, 1000))
    fd = os.open(path, os.O_RDONLY)
    try:
        keep_alive(fd)
        deadline = time.monotonic() + 10
        while os.stat(path).st_mtime < 2000 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert os.stat(path).st_mtime > 2000
    finally:
        stop_keeping_alive(fd)
        os.close(fd)
    deadline = time.monotonic() + 10
    while any(t.name == "psweep-heartbeat" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(t.name == "psweep-heartbeat" for t in threading.enumerate())


def test_lease_excludes_a_second_holder_until_released(tmp_path):
    """Only one Lease holds the file; the other gets it once it is released."""
    path = str(tmp_path / "db.lease")
    first, second = Lease(path), Lease(path)
    assert first.try_take() and first.holds()
    assert not second.try_take()
    first.release()
    assert not os.path.exists(path)
    assert second.try_take()
    second.release()


def test_lease_of_a_dead_process_of_this_host_is_broken_at_once(tmp_path):
    """A lease left by a dead process of this host is taken over without waiting for the timeout."""
    path = str(tmp_path / "db.lease")
    _sign(path, this_host(), _dead_pid())
    lease = Lease(path)
    assert lease.try_take()
    lease.release()
    assert os.listdir(tmp_path) == []


def test_lease_of_another_host_is_broken_only_after_the_timeout(tmp_path, short_timeout):
    """Another host's lease stands while refreshed within the timeout, and is broken after it."""
    path = str(tmp_path / "db.lease")
    _sign(path, "another-host", 1, age=30)
    lease = Lease(path)
    assert not lease.try_take()
    _sign(path, "another-host", 1, age=61)
    assert lease.try_take()
    assert json.load(open(path))["host"] == this_host()
    lease.release()


def test_database_lock_excludes_a_host_whose_file_lock_it_cannot_see(tmp_path):
    """Two database locks on separate lock files (node-local locks) still exclude each other by the lease."""
    lease = str(tmp_path / "results.pk.lease")
    db = str(tmp_path / "results.pk")
    host_a = DatabaseLock(str(tmp_path / "a.lock"), db, lease)
    host_b = DatabaseLock(str(tmp_path / "b.lock"), db, lease)
    host_a.acquire(timeout=1)
    host_a.acquire(timeout=1)  # nested
    with pytest.raises(LockTimeoutError, match="results.pk.lease"):
        host_b.acquire(timeout=0.2)
    host_a.release()
    assert host_a.holds()
    host_a.release()
    host_b.acquire(timeout=1)
    assert host_b.holds() and not host_a.holds()
    host_b.release()


def test_mountinfo_tells_the_file_system_and_its_locks():
    """The deepest mount holding a path gives its type; NFS and Lustre options tell whether locks are shared."""
    lines = [
        "22 1 8:1 / / rw - ext4 /dev/sda1 rw",
        r"40 22 0:50 / /scratch\040x rw - lustre 10.0.0.1@tcp:/fs rw,localflock",
        "41 22 0:51 / /home rw - nfs4 srv:/home rw,vers=4.2,local_lock=none",
        "42 22 0:52 / /tmp/m rw - fuse /real rw,user_id=0",
    ]
    assert parse_mountinfo(lines, "/scratch x/calc").fstype == "lustre"
    assert lock_sharing(parse_mountinfo(lines, "/scratch x/calc")) == "no: flock is node-local (localflock)"
    assert lock_sharing(parse_mountinfo(lines, "/home/u/calc")).startswith("yes")
    assert lock_sharing(parse_mountinfo(lines, "/tmp/m/calc")).startswith("cannot be told")
    local = parse_mountinfo(lines, "/data/calc")
    assert local.fstype == "ext4" and not is_network(local)
    assert is_network(Mount("fuse.sshfs", "/m", "h:/", ()))
