"""capture_logs: psets running at once on threads keep their own output; log folders of gone drivers go."""

from __future__ import annotations

import concurrent.futures as cf
import os
import platform
import subprocess
import sys
import tempfile

import pytest

import psweep as ps
import workers
from psweep.execute._capture import LOGS_PREFIX, remove_stale_folders


@pytest.mark.parametrize("timeout", [None, 30])
def test_psets_on_threads_capture_only_their_own_prints(timeout):
    """Four threads printing at once (with timeout=, each pset in a thread of its own): each pset's
    _logs holds its five lines and no other pset's."""
    stdout_before, stderr_before = sys.stdout, sys.stderr
    with cf.ThreadPoolExecutor(4) as pool:
        df = ps.run(workers.chatty, ps.plist("x", range(8)), executor=pool, capture_logs="db", chunksize=1,
                    timeout=timeout)
    for _, row in df.iterrows():
        lines = row["_logs"].splitlines()
        assert lines == [f"pset {row['x']} line {i}" for i in range(5)], (row["x"], lines)
    assert (sys.stdout, sys.stderr) == (stdout_before, stderr_before)


def test_log_folders_of_gone_drivers_of_this_host_are_removed_live_ones_kept(tmp_path, monkeypatch):
    """remove_stale_folders removes the folders whose driver pid names no process (a reaped child, an
    id too large for a pid) and keeps those of a live driver and of another host."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() caches its answer
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(timeout=30)
    owners = {"reaped": (platform.node(), gone.pid), "huge": (platform.node(), 2**80),
              "live": (platform.node(), os.getpid()), "elsewhere": ("another-host", gone.pid)}
    for name, (host, pid) in owners.items():
        folder = tmp_path / f"{LOGS_PREFIX}{name}"
        folder.mkdir()
        (folder / "driver").write_text(f"{host} {pid}\n")
    removed = remove_stale_folders()
    assert sorted(os.path.basename(p) for p in removed) == [f"{LOGS_PREFIX}huge", f"{LOGS_PREFIX}reaped"]
    assert sorted(os.listdir(tmp_path)) == [f"{LOGS_PREFIX}elsewhere", f"{LOGS_PREFIX}live"]
