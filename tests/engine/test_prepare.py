"""The prepare step of run(): source, code hash, executor and run id, before anything is written."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

import psweep as ps
import workers
from psweep.engine._prepare import prepare
from psweep.provenance import code_hash
from helpers import HOLD_LOCK
from steps import options_for


def test_prepare_reads_backup_script_and_hashes_the_code():
    """backup_script= is read as the source; the code hash is the function's; serial runs get no executor."""
    with open("study.py", "w", encoding="utf-8") as fd:
        fd.write("print('the study')\n")
    prepared = prepare(workers.square, options_for(backup_script="study.py"))
    assert prepared.source == "print('the study')\n"
    assert prepared.func_hash == code_hash(workers.square) is not None
    assert prepared.executor is None
    assert sorted(os.listdir(".")) == ["study.py"]


def test_prepare_keeps_a_given_source_and_draws_a_new_run_id():
    """source= passes through as it is; each call draws its own run id."""
    options = options_for(source="text")
    first, second = prepare(workers.square, options), prepare(workers.square, options)
    assert first.source == second.source == "text"
    assert first.run_id != second.run_id


def test_prepare_wraps_a_given_executor():
    """A concurrent.futures executor becomes an executor plan; nothing is written."""
    with ThreadPoolExecutor(2) as pool:
        prepared = prepare(workers.square, options_for(executor=pool))
        assert prepared.executor is not None
    assert os.listdir(".") == []


def test_prepare_refuses_same_code_without_python_code():
    """skip_dups="same-code" with a builtin is a ParamsError, before any executor is started."""
    with pytest.raises(ps.ParamsError, match="no Python code to hash"):
        prepare(dict, options_for(func=dict, skip_dups="same-code"))
    assert os.listdir(".") == []


def test_prepare_fails_on_a_missing_backup_script():
    """A backup_script= that does not exist fails here, before the calc dir is made."""
    with pytest.raises(FileNotFoundError):
        prepare(workers.square, options_for(backup_script="missing.py"))
    assert os.listdir(".") == []




def test_pool_started_for_a_run_that_fails_before_its_psets_is_stopped():
    """A run whose database lock times out after its pool started leaves no worker process behind."""
    ps.run(workers.square, ps.plist("x", [1]))
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, "calc/results.pk.lock"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = set(multiprocessing.active_children())
        with pytest.raises(ps.LockTimeoutError):
            ps.run(workers.square, ps.plist("x", [2, 3]), poolsize=2, lock_timeout=0.5)
        assert set(multiprocessing.active_children()) - before == set()
    finally:
        holder.kill()
        holder.wait(timeout=30)
