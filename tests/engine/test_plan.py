"""Tests of psweep/plan.py: psets checked and hashed up front, built only when they run."""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Sequence

import pytest

import psweep as ps
import workers
from psweep.errors import ParamsTypeError
from psweep.execute._executors import PsetQueue
from psweep.engine._plan import _UUID_CHUNK, plan_psets, uuid4s


class CountingParams(Sequence):
    """A list of psets that counts how often a pset is read."""

    def __init__(self, psets):
        self.psets = psets
        self.reads = 0

    def __len__(self):
        return len(self.psets)

    def __getitem__(self, index):
        pset = self.psets[index]  # IndexError ends iteration: not a read
        self.reads += 1
        return pset


def test_psets_are_built_one_at_a_time_as_they_run():
    """A serial run reads pset k of a list only when pset k runs (no planned dict per pset held)."""
    params = CountingParams([{"x": i} for i in range(50)])
    reads_when_run = []

    def func(pset):
        reads_when_run.append(params.reads)
        return {"y": pset["x"]}

    df = ps.run(func, params)
    assert df["y"].tolist() == list(range(50))
    assert reads_when_run == [50 + k + 1 for k in range(50)]


def test_a_generator_reusing_one_dict_gives_each_pset():
    """psets of a one-shot iterable are copied when planned, so a generator may reuse its dict."""

    def params():
        pset = {}
        for i in range(4):
            pset["x"] = i
            yield pset

    df = ps.run(workers.square, params())
    assert df["y"].tolist() == [0, 1, 4, 9]


def test_func_changing_a_nested_value_changes_neither_params_nor_other_psets():
    """Each pset's values are deep-copied when it runs: the caller's list and the next psets are unchanged."""
    shared = [1]
    params = [{"x": 1, "l": shared}, {"x": 2, "l": shared}]
    seen = []

    def func(pset):
        seen.append(list(pset["l"]))
        pset["l"].append(99)
        return {"n": len(pset["l"])}

    df = ps.run(func, params)
    assert shared == [1]
    assert seen == [[1], [1]]
    assert df["n"].tolist() == [2, 2]
    assert params == [{"x": 1, "l": [1]}, {"x": 2, "l": [1]}]


def test_bad_pset_at_the_end_fails_before_any_work():
    """A non-dict pset anywhere raises ParamsTypeError naming its position, before any pset runs."""
    calls = []
    params = [{"x": i} for i in range(100)] + ["oops"]
    with pytest.raises(ParamsTypeError, match="pset #100 is a str"):
        ps.run(lambda pset: calls.append(1), params)
    assert calls == []


def test_planned_psets_are_fresh_dicts_with_bookkeeping():
    """Item i of PlannedPsets is a new dict each time, with the hash and, once numbered, the run's bookkeeping."""
    psets = plan_psets([{"a": 1}, {"a": 2, "_pset_id": "given"}])
    assert psets[0] is not psets[0]
    assert psets[1] == {"a": 2, "_pset_hash": ps.pset_hash({"a": 2})}
    psets.number("run", "calc", 3, 10)
    first, second = list(psets)
    assert (first["_run_id"], first["_calc_dir"], first["_run_seq"], first["_pset_seq"]) == ("run", "calc", 3, 10)
    assert second["_pset_seq"] == 11
    assert first["_pset_id"] != second["_pset_id"] and psets[1]["_pset_id"] == second["_pset_id"]
    assert list(psets.without_hashes({first["_pset_hash"]})) == [{"a": 2, "_pset_hash": second["_pset_hash"]}]


def test_pset_queue_behaves_like_a_deque():
    """PsetQueue pops in order, takes psets back in front as deque.extendleft does, and counts what is left."""
    queue, reference = PsetQueue([{"i": i} for i in range(5)]), deque({"i": i} for i in range(5))
    for q in (queue, reference):
        first, second = q.popleft(), q.popleft()
        q.extendleft([second, first][::-1])
        q.popleft()
    assert len(queue) == len(reference) == 4
    assert [queue.popleft() for _ in range(4)] == list(reference)
    assert not queue
    with pytest.raises(IndexError):
        queue.popleft()


def test_pool_run_of_a_lazy_plan_keeps_every_row():
    """A pool run takes its psets lazily and still records every pset once, in order."""
    df = ps.run(workers.square, ps.plist("x", range(300)), poolsize=2, chunksize=7)
    assert sorted(df["y"].tolist()) == [x * x for x in range(300)]
    assert df["_pset_seq"].nunique() == 300


def test_uuids_beyond_one_numpy_pass_are_distinct_version_4_uuids():
    """uuid4s builds many ids in chunks: every one a distinct RFC 4122 version-4 UUID in canonical text."""
    ids = uuid4s(2 * _UUID_CHUNK + 7)
    assert len(ids) == len(set(ids)) == 2 * _UUID_CHUNK + 7
    parsed = [uuid.UUID(text) for text in ids]
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 and str(u) == text for u, text in zip(parsed, ids))
