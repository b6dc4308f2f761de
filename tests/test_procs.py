"""Tests of psweep/_procs.py, the one "does process `pid` exist on this host" check, on real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from psweep._procs import pid_exists

NOBODY = 65534


def test_a_live_child_exists_for_both_answers():
    """A running child process exists, whatever a process of another user would count as."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert pid_exists(proc.pid)
        assert pid_exists(proc.pid, other_users=False)
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_a_reaped_child_does_not_exist():
    """The pid of a child that ended and was reaped names no process any more."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    assert not pid_exists(proc.pid)
    assert not pid_exists(proc.pid, other_users=False)


@pytest.mark.parametrize("pid", [0, -1, -os.getpid(), 2**31, 2**80])
def test_ids_that_name_no_single_process_do_not_exist(pid):
    """Zero and negative ids (process groups, everyone) and too large ones are no process."""
    assert not pid_exists(pid)


def _foreign_pid() -> int | None:
    """The pid of a running process of another user, if this host shows one."""
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid != os.getuid():
                    return int(name)
            except OSError:
                continue
    return None


def _probe_as_nobody(pid: int) -> tuple[bool, bool]:
    """(pid_exists(pid), pid_exists(pid, other_users=False)) as asked by a child turned user nobody."""
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 3
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            code = pid_exists(pid) * 1 + pid_exists(pid, other_users=False) * 2
        finally:
            os._exit(code)
    deadline = time.monotonic() + 30
    while True:
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(child, 9)
            os.waitpid(child, 0)
            raise AssertionError("the probing child did not end within 30 s")
        time.sleep(0.01)
    code = os.waitstatus_to_exitcode(status)
    assert code in (0, 1, 2), f"the probing child failed (exit code {code})"
    return bool(code & 1), bool(code & 2)


def test_a_process_of_another_user_exists_unless_asked_otherwise():
    """A process this user may not signal exists by default, and counts as gone with other_users=False."""
    if os.getuid() == 0:
        # Root may signal every process: ask from a child that is user nobody, about this process.
        assert _probe_as_nobody(os.getpid()) == (True, False)
        return
    pid = _foreign_pid()
    if pid is None:
        pytest.skip("no process of another user is visible on this host (a lone container user)")
    assert pid_exists(pid)
    assert not pid_exists(pid, other_users=False)
