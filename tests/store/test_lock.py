"""Tests of psweep/store/_lock.py: the database lock, its timeout and a deleted lock file.

Real files, real filelock, and a real second process holding the lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from psweep.errors import LockTimeoutError
from psweep.store._lock import DatabaseLock

TIMEOUT = 60

# Holds a filelock on argv[1] until its stdin closes; says "locked" once held.
HOLDER = """
import sys, filelock
lock = filelock.FileLock(sys.argv[1])
lock.acquire(timeout=60)
print("locked", flush=True)
sys.stdin.read()
lock.release()
"""


@pytest.fixture
def holder():
    """Start a process that holds the lock at a path; it is ended after the test."""
    procs = []

    def start(path: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        procs.append(proc)
        assert proc.stdout.readline().strip() == "locked"
        return proc

    yield start
    for proc in procs:
        proc.stdin.close()
        proc.wait(timeout=TIMEOUT)


def test_acquire_release_and_holds(tmp_path):
    """A taken lock is held on the file at the lock path, and not after its release."""
    lock = DatabaseLock(str(tmp_path / "results.pk.lock"), str(tmp_path / "results.pk"))
    assert not lock.holds()
    lock.acquire(timeout=TIMEOUT)
    assert lock.holds()
    lock.release()
    assert not lock.holds()
    lock.release()  # releasing a lock not held is no error


def test_timeout_while_another_process_holds_it(tmp_path, holder):
    """Another process's lock makes acquire give up after the timeout, with a message naming both files."""
    path = str(tmp_path / "results.pk.lock")
    proc = holder(path)
    lock = DatabaseLock(path, str(tmp_path / "results.pk"))
    start = time.monotonic()
    with pytest.raises(LockTimeoutError, match="results.pk.lock.*within 0.3 s.*results.pk"):
        lock.acquire(timeout=0.3)
    assert 0.25 < time.monotonic() - start < TIMEOUT
    proc.stdin.close()
    proc.wait(timeout=TIMEOUT)
    lock.acquire(timeout=TIMEOUT)
    assert lock.holds()
    lock.release()


def test_deleted_lock_file_is_noticed_and_taken_anew(tmp_path):
    """After the lock file is deleted, holds() is False and keep() locks the new file."""
    path = str(tmp_path / "results.pk.lock")
    lock = DatabaseLock(path, str(tmp_path / "results.pk"))
    lock.acquire(timeout=TIMEOUT)
    os.remove(path)
    assert not lock.holds()
    lock.keep(timeout=TIMEOUT)
    assert lock.holds() and os.path.exists(path)
    lock.release()


def test_keep_waits_for_the_process_that_locked_the_new_file(tmp_path, holder):
    """keep() after a deleted lock file waits for whoever locked its replacement, up to the timeout."""
    path = str(tmp_path / "results.pk.lock")
    lock = DatabaseLock(path, str(tmp_path / "results.pk"))
    lock.acquire(timeout=TIMEOUT)
    os.remove(path)
    proc = holder(path)
    with pytest.raises(LockTimeoutError):
        lock.keep(timeout=0.2)
    proc.stdin.close()
    proc.wait(timeout=TIMEOUT)
    lock.keep(timeout=TIMEOUT)
    assert lock.holds()
    lock.release()

