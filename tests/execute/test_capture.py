"""capture_logs on threads: psets running at once in one process keep their own output."""

from __future__ import annotations

import concurrent.futures as cf
import sys

import pytest

import psweep as ps
import workers


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
