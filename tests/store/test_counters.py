"""Tests of psweep/store/_counters.py: run and pset numbers, unique across processes.

Real files, real flock, real processes.
"""

from __future__ import annotations

import json
import multiprocessing

import pandas as pd

from psweep.store._counters import reserve_seqs

TIMEOUT = 120


def _no_rows():
    raise AssertionError("rows asked for although the counters file is intact")


def test_blocks_follow_each_other_and_rows_are_read_only_once(tmp_path):
    """A new file starts at 0; later reservations continue without reading the rows."""
    path = str(tmp_path / ".psweep" / "results.pk.counters.json")
    assert reserve_seqs(path, 3, lambda: None) == (0, 0)
    assert reserve_seqs(path, 2, _no_rows) == (1, 3)
    assert reserve_seqs(path, 1, _no_rows, at_least=(7, 100)) == (7, 100)
    assert reserve_seqs(path, 1, _no_rows) == (8, 101)


def test_missing_or_damaged_file_is_rebuilt_from_the_rows(tmp_path):
    """Without an intact counters file the numbers continue after the rows' highest."""
    path = str(tmp_path / "counters.json")
    db = pd.DataFrame({"_run_seq": [0, 4], "_pset_seq": [0, 9]})
    assert reserve_seqs(path, 2, lambda: db) == (5, 10)
    data = json.loads(open(path, "rb").read())
    data["pset_seq"] = 3  # a change the check value does not match
    with open(path, "w") as fd:
        fd.write(json.dumps(data) + " " * 200)  # longer than the file it replaces
    assert reserve_seqs(path, 1, lambda: db) == (5, 10)
    assert reserve_seqs(path, 1, _no_rows) == (6, 11)


def _reserve_many(path: str, n: int, queue) -> None:
    queue.put([reserve_seqs(path, 3, lambda: None) for _ in range(n)])


def test_processes_get_disjoint_numbers(tmp_path):
    """Four processes reserving at once get distinct run numbers and non-overlapping pset blocks."""
    path = str(tmp_path / "counters.json")
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_reserve_many, args=(path, 20, queue)) for _ in range(4)]
    for proc in procs:
        proc.start()
    got = [pair for _ in procs for pair in queue.get(timeout=TIMEOUT)]
    for proc in procs:
        proc.join(timeout=TIMEOUT)
        assert proc.exitcode == 0
    assert sorted(run for run, _ in got) == list(range(80))
    assert sorted(first for _, first in got) == list(range(0, 240, 3))
