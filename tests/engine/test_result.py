"""The result step of run(): the warnings at the end and the frame returned, against a real store."""

from __future__ import annotations

import warnings

import pandas as pd

import psweep as ps
import workers
from psweep.engine import plan_psets
from psweep.engine._admit import admit
from psweep.engine._execute import execute
from psweep.engine._notices import Tally
from psweep.engine._prepare import prepare
from psweep.engine._result import result
from psweep.store import Store
from steps import options_for


def _run_steps(func, params, **changes):
    """All of run()'s steps but the dry-run lock, on a real calc dir: what result() returns."""
    options = options_for(func=func, **changes)
    prepared = prepare(func, options)
    store = Store(options.calc_dir)
    admission = admit(store, plan_psets(params), options, prepared.func_hash)
    recorder, written = execute(func, store, admission, options, prepared, Tally(len(admission.psets), None))
    return result(func, store, options, admission, prepared.run_id, recorder, written)


def test_result_is_the_database_after_the_run():
    """save=True: every row on disk, those of earlier runs included, in the database's order."""
    ps.run(workers.square, ps.plist("x", [1]))
    out = _run_steps(workers.square, ps.plist("x", [2, 3]))
    assert out["x"].tolist() == [1, 2, 3]
    pd.testing.assert_frame_equal(out, ps.df_read("calc/results.pk"))


def test_result_with_df_is_df_plus_the_new_rows():
    """df=: df plus this run's rows, also when the database on disk holds others."""
    df = ps.run(workers.square, ps.plist("x", [1]))
    ps.run(workers.square, ps.plist("x", [9]))
    out = _run_steps(workers.square, ps.plist("x", [2]), df=df)
    assert out["x"].tolist() == [1, 2]


def test_result_in_memory_fills_missing_cells():
    """save=False with fill_value=: the database read plus the new rows, gaps filled, nothing written."""
    ps.run(workers.square, ps.plist("x", [1]))
    out = _run_steps(workers.square, [{"x": 2, "extra": "e"}], save=False, fill_value="-")
    assert out["x"].tolist() == [1, 2]
    assert out["extra"].tolist() == ["-", "e"]
    assert len(ps.df_read("calc/results.pk")) == 1


def test_result_warns_about_failures_and_repeats():
    """Failed psets and repeated done psets are each one warning; the rows are returned all the same."""
    ps.run(workers.square, ps.plist("x", [1]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = _run_steps(workers.fail_on_3, ps.plist("x", [1, 3]))
    messages = [str(w.message) for w in caught]
    assert any("1 of 2 psets failed" in m for m in messages)
    assert any("already had successful rows" in m for m in messages)
    assert out["_failed"].tolist() == [False, False, True]


def test_result_of_a_run_that_skipped_everything_warns_nothing():
    """Nothing left to run: the database as it is, no warning of repeats."""
    ps.run(workers.square, ps.plist("x", [1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _run_steps(workers.square, ps.plist("x", [1]), skip_dups=True)
    assert out["x"].tolist() == [1]

