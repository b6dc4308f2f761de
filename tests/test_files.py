"""Tests of psweep/_files.py, the one atomic writer, and of which files a run syncs.

Real files, real processes; the system calls of a real run are read with
``strace`` where the machine has it (skipped otherwise).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from psweep._files import write_atomic

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


def test_write_atomic_replaces_whole_with_and_without_sync(tmp_path):
    """Both durable and non-durable writes replace the target whole and leave no temporary file."""
    path = str(tmp_path / "record.json")
    assert write_atomic(path, b'{"a": 1}').replaced
    assert write_atomic(path, b'{"a": 2}', durable=False).replaced
    with open(path, "rb") as fd:
        assert fd.read() == b'{"a": 2}'
    assert os.listdir(tmp_path) == ["record.json"]


RUN = """
import sys
sys.path.insert(0, sys.argv[1])
import psweep as ps, workers
ps.run(workers.square, ps.plist("x", [1, 2]))
"""


def _syncs_of_a_run(tmp_path) -> list[str]:
    """The files a two-pset run fsync'ed, by strace of a real run (skips without strace)."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    trace = tmp_path / "trace.txt"
    proc = subprocess.run(
        [strace, "-f", "-y", "-e", "trace=fsync,fdatasync", "-o", str(trace),
         sys.executable, "-c", RUN, TESTS_DIR],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    if proc.returncode != 0 and "ptrace" in proc.stderr:
        pytest.skip(f"strace cannot trace here: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0, proc.stderr
    return re.findall(r"f(?:data)?sync\(\d+<([^>]*)>\)", trace.read_text())


def test_a_run_syncs_its_database_and_no_bookkeeping(tmp_path):
    """A run syncs the new database file once (durable on completion) and skips the sync of
    its run records, which cost milliseconds per run and hold no result."""
    synced = _syncs_of_a_run(tmp_path)
    assert len(synced) == 1, synced
    assert re.search(r"/calc/\.results\.pk\.[0-9a-f]+\.tmp$", synced[0]), synced
