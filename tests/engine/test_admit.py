"""The admit step of run(): which psets run, the backup, and their numbers, against a real store."""

from __future__ import annotations

import os

import psweep as ps
import workers
from psweep.engine import plan_psets
from psweep.engine._admit import admit
from psweep.store import Store
from steps import options_for


def _study():
    """A calc dir holding one run of square over x = 1, 2 (psets 0 and 1 of run 0)."""
    return ps.run(workers.square, ps.plist("x", [1, 2]))


def test_admit_numbers_after_the_rows_on_disk_and_reserves_under_the_lock():
    """Two admissions in a row get run 1 and 2, psets numbered on from the database, each its own."""
    _study()
    store = Store("calc")
    options = options_for()
    first = admit(store, plan_psets(ps.plist("x", [3, 4])), options, None)
    second = admit(store, plan_psets(ps.plist("x", [5])), options, None)
    assert (first.run_seq, first.first_seq) == (1, 2)
    assert (second.run_seq, second.first_seq) == (2, 4)
    assert len(first.psets) == 2 and first.df is None


def test_admit_skips_done_psets_and_the_rest_stay():
    """skip_dups=True leaves out psets with successful rows; none left reserves no numbers."""
    _study()
    store = Store("calc")
    some = admit(store, plan_psets(ps.plist("x", [1, 2, 3])), options_for(skip_dups=True), None)
    assert [pset["x"] for pset in some.psets] == [3]
    none = admit(store, plan_psets(ps.plist("x", [1, 2])), options_for(skip_dups=True), None)
    assert len(none.psets) == 0 and (none.run_seq, none.first_seq) == (0, 0)


def test_admit_backs_up_the_calc_dir_before_a_change():
    """backup=True copies the calc dir to calc_<last _time_utc> before the run adds rows."""
    _study()
    admit(Store("calc"), plan_psets(ps.plist("x", [3])), options_for(backup=True), None)
    backups = [name for name in os.listdir(".") if name.startswith("calc_")]
    assert len(backups) == 1
    assert ps.df_read(os.path.join(backups[0], "results.pk"))["x"].tolist() == [1, 2]


def test_admit_writes_the_rows_of_df_the_database_lacks():
    """With df=, the database gets df's missing rows (it only grows) and numbering follows df."""
    df = _study()
    os.remove("calc/results.pk")
    store = Store("calc")
    admission = admit(store, plan_psets(ps.plist("x", [3])), options_for(df=df), None)
    assert ps.df_read("calc/results.pk")["x"].tolist() == [1, 2]
    assert (admission.run_seq, admission.first_seq) == (1, 2)
    assert admission.df["x"].tolist() == [1, 2]


def test_admit_in_memory_reads_the_database_and_writes_nothing():
    """save=False numbers after the database on disk, read with its journals, and leaves no lock file."""
    _study()
    before = sorted(os.listdir("calc"))
    options = options_for(save=False, skip_dups=True)
    admission = admit(Store("calc"), plan_psets(ps.plist("x", [2, 3])), options, None)
    assert [pset["x"] for pset in admission.psets] == [3]
    assert (admission.run_seq, admission.first_seq) == (1, 2)
    assert admission.df["x"].tolist() == [1, 2]
    assert sorted(os.listdir("calc")) == before


def test_admit_in_memory_without_a_database_starts_at_zero():
    """save=False with no database and no df: numbers from 0, nothing made on disk."""
    admission = admit(Store("calc"), plan_psets(ps.plist("x", [1])), options_for(save=False), None)
    assert (admission.run_seq, admission.first_seq, admission.df) == (0, 0, None)
    assert not os.path.exists("calc")
