"""The execute step of run(): psets numbered, the run record written, rows recorded, the final fold."""

from __future__ import annotations

import json
import os

import pytest

import psweep as ps
import workers
from psweep.engine import plan_psets
from psweep.engine._admit import admit
from psweep.engine._execute import execute
from psweep.engine._notices import Tally
from psweep.engine._prepare import prepare
from psweep.store import Store
from steps import options_for


def _execute(func, params, **changes):
    """Run the steps up to execute on a real calc dir; returns (recorder, written, run_id, tally)."""
    options = options_for(func=func, **changes)
    prepared = prepare(func, options)
    store = Store(options.calc_dir)
    admission = admit(store, plan_psets(params), options, prepared.func_hash)
    tally = Tally(len(admission.psets), store.db_path)
    recorder, written = execute(func, store, admission, options, prepared, tally)
    return recorder, written, prepared.run_id, tally


def _run_record(run_id):
    """The run's provenance file, as JSON."""
    with open(os.path.join("calc", "backup_script", f"{run_id}.json"), encoding="utf-8") as fd:
        return json.load(fd)


def test_execute_records_every_row_folds_and_ends_the_run_record():
    """The rows are in results.pk in pset order, the journal is gone, the run record reads finished."""
    recorder, written, run_id, tally = _execute(workers.square, ps.plist("x", [1, 2, 3]), source="src")
    assert tally.recorder is recorder and recorder.n_rows == 3
    assert written["y"].tolist() == [1, 4, 9]
    assert ps.df_read("calc/results.pk")["_pset_seq"].tolist() == [0, 1, 2]
    journal = Store("calc").journal_dir
    assert not os.path.exists(journal) or os.listdir(journal) == []
    with open(os.path.join("calc", "backup_script", f"{run_id}.py"), encoding="utf-8") as fd:
        assert fd.read() == "src"
    assert ps.runs("calc").set_index("_run_id").loc[run_id, "state"] == "finished"
    assert _run_record(run_id)["planned"] == 3


def test_execute_raises_the_first_failure_after_recording_the_others():
    """on_error="raise": the pset's exception comes out once every finished row is stored."""
    with pytest.raises(ValueError, match="x is 3"):
        _execute(workers.fail_on_3, ps.plist("x", [1, 2, 3, 4]), on_error="raise")
    df = ps.df_read("calc/results.pk")
    assert df["x"].tolist() == [1, 2, 3] and df["_failed"].tolist() == [False, False, True]
    assert ps.runs("calc")["state"].tolist() == ["stopped"]


def test_execute_without_save_writes_nothing():
    """save=False keeps the rows in the recorder; no calc dir, no run record."""
    recorder, written, _, _ = _execute(workers.square, ps.plist("x", [1, 2]), save=False)
    assert written is None and recorder.n_rows == 2 and len(recorder.memory_rows) == 2
    assert not os.path.exists("calc")
