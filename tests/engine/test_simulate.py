"""The simulate step of run(): ``<calc_dir>.simulate`` made afresh from the real database, under its lock."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading

import pytest

import psweep as ps
import workers
from psweep.engine import prepare_simulate_dir
from psweep.engine._simulate import simulation
from psweep.store import Store
from steps import options_for

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")


def _snapshot(folder):
    """{relative path: sha1 of the content} of every file under `folder`."""
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as fd:
                found[os.path.relpath(path, folder)] = hashlib.sha1(fd.read()).hexdigest()
    return found


def test_prepare_simulate_dir_copies_the_database_with_its_journals_and_reads_only():
    """The copy holds the database plus a killed run's journal rows; the real calc dir is not touched."""
    shutil.copytree(os.path.join(FIXTURES, "calc_v017", "calc"), "calc")
    before = _snapshot("calc")
    sim_dir = prepare_simulate_dir("calc", "results.pk", 5.0)
    assert sim_dir == "calc.simulate"
    assert _snapshot("calc") == before  # no fold, no lock file, journal kept
    expected = ps.df_read("calc/results.pk")
    copied = ps.df_read("calc.simulate/results.pk")
    assert sorted(copied["_pset_id"]) == sorted(expected["_pset_id"])
    assert len(copied) == len(Store("calc").with_pending())


def test_prepare_simulate_dir_starts_afresh_but_keeps_the_lock_file():
    """Leftovers of an earlier dry run go (files, folders); the dry-run lock file stays."""
    ps.run(workers.square, ps.plist("x", [1, 2]))
    os.makedirs("calc.simulate/old_pset")
    for name in ("calc.simulate/old_pset/out.txt", "calc.simulate/stale.txt", "calc.simulate/.simulate.lock"):
        with open(name, "w") as fd:
            fd.write("old")
    prepare_simulate_dir("calc", "results.pk", 5.0)
    assert sorted(os.listdir("calc.simulate")) == [".simulate.lock", "results.pk", "results.pk.lock"]
    assert ps.df_read("calc.simulate/results.pk")["x"].tolist() == [1, 2]


def test_prepare_simulate_dir_without_a_database_leaves_an_empty_folder():
    """No real database: the dry run's folder is made, empty."""
    assert prepare_simulate_dir("calc", "results.pk", 5.0) == "calc.simulate"
    assert os.listdir("calc.simulate") == []
    assert not os.path.exists("calc")


def test_simulation_of_a_real_run_yields_its_calc_dir_and_writes_nothing():
    """simulate=False: the run's own calc dir, no folder made."""
    with simulation(options_for(calc_dir="calc")) as run_dir:
        assert run_dir == "calc"
    assert os.listdir(".") == []


def test_simulation_holds_the_dry_run_lock_until_it_ends():
    """A second dry run of the same calc dir waits for the first; with lock_timeout=0 it fails at once."""
    ps.run(workers.square, ps.plist("x", [1]))
    failures = []

    def second():
        try:
            with simulation(options_for(simulate=True, lock_timeout=0)):
                pass
        except ps.LockTimeoutError as exc:
            failures.append(exc)

    with simulation(options_for(simulate=True)) as run_dir:
        assert run_dir == "calc.simulate"
        assert ps.df_read("calc.simulate/results.pk")["x"].tolist() == [1]
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=30)
        assert not thread.is_alive()
    assert len(failures) == 1 and "another dry run" in str(failures[0])
    with simulation(options_for(simulate=True, lock_timeout=0)):  # released: free again
        pass


def test_simulation_says_what_to_fix_when_the_folder_cannot_be_made():
    """A dry run whose folder cannot be made is a StoreWriteError, not a bare OSError."""
    with open("calc.simulate", "w") as fd:  # a file where the folder goes
        fd.write("in the way")
    with pytest.raises(ps.StoreWriteError):
        with simulation(options_for(simulate=True)):
            pass
