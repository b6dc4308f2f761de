"""Tests of psweep/store/_store.py, the Store face, end to end: journals, folding, locks, crash safety.

Real files, real filelock, real OS processes and real SIGKILL throughout.
"""

from __future__ import annotations

import os
import pickle
import random
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

import psweep as ps
import workers
from helpers import HOLD_LOCK, read_lines, start_driver, wait_until
from psweep.store._journal import Journal, read_journal
from psweep.store._store import Store

run_module = sys.modules["psweep.engine._run"]
plan_module = sys.modules["psweep.engine._plan"]

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))








# -- journal format -----------------------------------------------------------


def test_journal_roundtrip(tmp_path):
    """Rows appended to a journal read back in order."""
    journal = Journal(str(tmp_path / "j" / "run.jnl"))
    rows = [{"_pset_id": str(i), "x": i, "arr": [i] * 3} for i in range(5)]
    for row in rows:
        journal.append(row)
    assert read_journal(journal.path, live=True) == rows
    journal.close(remove=False)
    assert read_journal(journal.path, live=False) == rows


def test_damaged_record_is_skipped_with_warning_and_later_records_kept(tmp_path):
    """A torn record in the middle is skipped with a warning; records after it survive."""
    parts = []
    for name in ("a", "b"):
        journal = Journal(str(tmp_path / f"{name}.jnl"))
        journal.append({"_pset_id": name})
        journal.close(remove=False)
        parts.append(open(journal.path, "rb").read())
    path = str(tmp_path / "run.jnl")
    with open(path, "wb") as fd:  # record a, a record cut short by a crash, record b
        fd.write(parts[0] + b"PSJ1\x10\x00\x00\x00\x00\x00" + parts[1])
    with pytest.warns(RuntimeWarning, match="damaged record"):
        rows = read_journal(path, live=False)
    assert [r["_pset_id"] for r in rows] == ["a", "b"]


def test_journal_never_replaces_an_existing_one(tmp_path):
    """Opening a journal whose file exists fails instead of losing its rows."""
    path = str(tmp_path / "run.jnl")
    journal = Journal(path)
    journal.append({"_pset_id": "a"})
    journal.close(remove=False)
    with pytest.raises(FileExistsError):
        Journal(path)
    assert read_journal(path, live=False) == [{"_pset_id": "a"}]
    assert os.listdir(tmp_path) == ["run.jnl"]


def test_journal_left_under_its_temporary_name_is_removed_when_unlocked():
    """A process killed while creating its journal leaves an empty temp file,
    removed by the next fold once it is a minute old; one still locked by its
    process, or brand-new (maybe not locked yet), is kept."""
    ps.run(workers.square, ps.plist("x", [1]))
    folder = "calc/.psweep/journal/results.pk"
    dead = os.path.join(folder, "dead.jnl.999.new")
    young = os.path.join(folder, "young.jnl.998.new")  # maybe being created right now
    for path in (dead, young):
        open(path, "wb").close()
    old_time = time.time() - 3600
    os.utime(dead, (old_time, old_time))
    live = Journal(os.path.join(folder, "live.jnl"))  # path + ".<pid>.new" while created
    os.link(live.path, live.path + ".1.new")  # the same locked file under a temp name
    os.utime(live.path, (old_time, old_time))
    ps.run(workers.square, ps.plist("x", [2]))
    assert not os.path.exists(dead)
    assert os.path.exists(young)
    assert os.path.exists(live.path + ".1.new")
    live.close(remove=True)


def test_half_written_tail_of_dead_run_is_skipped_on_read():
    """A dead run's journal with a half-written last record: df_read keeps the rest, warns."""
    ps.run(workers.square, ps.plist("x", [1]))
    store = Store("calc")
    journal = store.open_journal("deadrun")
    for x in range(3):
        journal.append({"_pset_id": f"p{x}", "x": x, "_time_utc": pd.Timestamp("2026-01-01")})
    journal.close(remove=False)
    with open(journal.path, "ab") as fd:
        fd.write(b"PSJ1\xff\x00\x00\x00")
    with pytest.warns(RuntimeWarning, match="damaged record"):
        df = ps.df_read("calc/results.pk")
    assert sorted(df["x"]) == [0, 1, 1, 2]
    assert not os.path.exists(journal.path)  # folded
    assert len(pickle.load(open("calc/results.pk", "rb"))) == 4


def test_fold_crash_between_replace_and_journal_removal_gives_no_duplicates():
    """If a journal survives after its rows were folded, folding it again adds nothing."""
    store = Store("calc")
    journal = store.open_journal("run1")
    for x in range(4):
        journal.append({"_pset_id": f"p{x}", "x": x, "_time_utc": pd.Timestamp("2026-01-01")})
    saved = open(journal.path, "rb").read()
    with store.locked():
        store.fold(own=journal)
    journal.close(remove=True)
    with open(journal.path, "wb") as fd:  # as if the process died before removing it
        fd.write(saved)
    df = ps.df_read("calc/results.pk")
    assert len(df) == 4
    assert df["_pset_id"].is_unique


def test_database_file_gets_the_usual_permissions():
    """results.pk is created with the umask's mode (not mkstemp's private 0600) and keeps a chosen mode."""
    ps.run(workers.square, ps.plist("x", [1]))
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat("calc/results.pk").st_mode & 0o777 == 0o666 & ~umask
    os.chmod("calc/results.pk", 0o640)
    ps.run(workers.square, ps.plist("x", [2]))
    assert os.stat("calc/results.pk").st_mode & 0o777 == 0o640


def test_recording_a_row_does_not_rewrite_the_database():
    """During a run rows go to the journal only; results.pk is rewritten once at the end."""
    ps.run(workers.square, ps.plist("x", range(50)))
    stat_before = os.stat("calc/results.pk")
    seen = []

    def check(pset):
        stat = os.stat("calc/results.pk")
        seen.append((stat.st_ino, stat.st_mtime_ns))
        return {}

    ps.run(check, ps.plist("x", range(100, 130)))
    assert set(seen) == {(stat_before.st_ino, stat_before.st_mtime_ns)}
    assert os.stat("calc/results.pk").st_mtime_ns != stat_before.st_mtime_ns


def test_extending_does_not_rehash_old_rows(monkeypatch):
    """A run hashes only its own psets, never the rows already stored."""
    ps.run(workers.square, ps.plist("x", range(200)))
    calls = []
    real = plan_module.hash_with_layout
    monkeypatch.setattr(plan_module, "hash_with_layout", lambda *args: calls.append(1) or real(*args))
    ps.run(workers.square, ps.plist("x", range(200, 205)), skip_dups=True)
    assert len(calls) == 5


def test_readers_see_rows_of_a_live_run():
    """df_read includes rows a still-running driver has recorded but not folded."""
    proc = start_driver("calc", "0", "200", "--sleep", "0.02", "--log", "done.log")
    try:
        wait_until(lambda: len(read_lines("done.log")) >= 10, 60, "10 finished psets")
        time.sleep(0.05)
        df = ps.df_read("calc/results.pk")
        assert len(df) >= 10
        assert not os.path.exists("calc/results.pk") or len(pickle.load(open("calc/results.pk", "rb"))) < len(df)
    finally:
        proc.kill()
        proc.wait(timeout=30)


# -- crash safety -------------------------------------------------------------


def test_sigkill_of_driver_loses_at_most_the_pset_in_flight():
    """After SIGKILL every finished pset is recovered by the next read (serial path)."""
    proc = start_driver("calc", "0", "500", "--sleep", "0.01", "--log", "done.log")
    wait_until(lambda: len(read_lines("done.log")) >= 40, 60, "40 finished psets")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    finished = read_lines("done.log")
    df = ps.df_read("calc/results.pk")
    missing = set(finished) - set(df["_pset_id"])
    assert len(missing) <= 1, missing
    assert len(df) >= len(finished) - 1
    assert df["_pset_id"].is_unique
    # the dead run's journal was folded into the database file
    assert len(pickle.load(open("calc/results.pk", "rb"))) == len(df)


def test_sigkill_of_driver_with_pool_keeps_finished_rows():
    """With poolsize=2, rows that reached the driver survive its SIGKILL."""
    proc = start_driver("calc", "0", "400", "--sleep", "0.02", "--poolsize", "2", "--log", "done.log")
    wait_until(lambda: len(read_lines("done.log")) >= 60, 90, "60 finished psets")
    time.sleep(0.5)  # let finished chunks reach the driver
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    finished = set(read_lines("done.log"))
    df = ps.df_read("calc/results.pk")
    assert df["_pset_id"].is_unique
    assert set(df["_pset_id"]) <= finished
    # chunks are ~0.2 s of work: at most a few chunks per worker can be in flight
    assert len(df) >= len(finished) - 40, (len(df), len(finished))


def test_random_sigkills_never_tear_the_database_nor_lose_rows():
    """Drivers killed at random moments (also mid-fold) leave a readable db, no losses, no duplicates."""
    ps.run(workers.square, ps.plist("x", range(3000)))  # a fold now takes a while
    rng = random.Random(1234)
    for trial in range(25):
        proc = start_driver("calc", str(10_000 + 100 * trial), "15", "--runs", "50", "--log", "done.log")
        wait_until(lambda proc=proc: proc.stdout.readline().strip() == "started", 60, "driver start")
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        with open("calc/results.pk", "rb") as fd:
            assert isinstance(pickle.load(fd), pd.DataFrame)
    finished = set(read_lines("done.log"))
    df = ps.df_read("calc/results.pk")
    assert df["_pset_id"].is_unique
    missing = finished - set(df["_pset_id"])
    assert len(missing) <= 25, f"{len(missing)} finished psets lost over 25 kills"
    assert not [n for n in os.listdir("calc") if n.endswith(".tmp")]


# -- concurrency ----------------------------------------------------------------


@pytest.mark.parametrize("n_procs", [2, 4, 8])
def test_concurrent_drivers_lose_no_rows(n_procs):
    """P processes running at once on one calc dir end with exactly the sum of their rows."""
    per_proc = 40
    procs = [
        start_driver("calc", str(1000 * i), str(per_proc), "--go", "go")
        for i in range(n_procs)
    ]
    for proc in procs:
        wait_until(lambda proc=proc: proc.stdout.readline().strip() == "ready", 120, "driver start")
    open("go", "w").close()
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    df = ps.df_read("calc/results.pk")
    assert len(df) == n_procs * per_proc
    assert df["_pset_id"].is_unique
    assert df["_pset_seq"].is_unique
    assert df["_run_id"].nunique() == n_procs
    runs = df.groupby("_run_id")["_run_seq"].nunique()
    assert (runs == 1).all()
    assert df.groupby("_run_id")["_run_seq"].first().is_unique
    assert sorted(df["x"]) == sorted(1000 * i + k for i in range(n_procs) for k in range(per_proc))


# -- locks -------------------------------------------------------------------------



def test_lock_of_killed_process_does_not_block_next_run():
    """A lock held by a SIGKILLed process is free for the next run."""
    ps.run(workers.square, ps.plist("x", [1]))
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, "calc/results.pk.lock"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        df = ps.run(workers.square, ps.plist("x", [2]), lock_timeout=10)
        assert sorted(df["x"]) == [1, 2]
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_lock_timeout_is_a_clear_error_and_leaves_db_unchanged():
    """A lock held by a live process makes run() raise LockTimeoutError naming the lock file."""
    ps.run(workers.square, ps.plist("x", [1]))
    before = open("calc/results.pk", "rb").read()
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, "calc/results.pk.lock"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(ps.LockTimeoutError, match="results.pk.lock") as info:
            ps.run(workers.square, ps.plist("x", [2]), lock_timeout=0.5)
        assert isinstance(info.value, TimeoutError)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert open("calc/results.pk", "rb").read() == before
    assert len(ps.df_read("calc/results.pk")) == 1


def test_failing_pset_with_on_error_raise_keeps_finished_rows():
    """on_error='raise' stores the finished rows, then re-raises the original exception."""
    with pytest.raises(ValueError, match="x is 3"):
        ps.run(workers.fail_on_3, ps.plist("x", [1, 2, 3, 4]), on_error="raise")
    df = ps.df_read("calc/results.pk")
    assert sorted(df["x"]) == [1, 2, 3]
    assert df.set_index("x").loc[3, "_failed"]


def test_copy_of_calc_dir_with_pending_journal_reads_everything(tmp_path):
    """A copied calc dir (e.g. a backup) with a journal inside reads its pending rows too."""
    ps.run(workers.square, ps.plist("x", [1, 2]))
    store = Store("calc")
    journal = store.open_journal("pending")
    journal.append({"_pset_id": "p", "x": 9, "_time_utc": pd.Timestamp("2026-01-01")})
    shutil.copytree("calc", "copy")
    journal.close(remove=True)
    df = ps.df_read("copy/results.pk")
    assert sorted(df["x"]) == [1, 2, 9]


FULL_DISK = """
import resource, signal, sys
sys.path.insert(0, sys.argv[1])
import psweep as ps, workers
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversize writes fail with EFBIG instead
ps.run(workers.blob, ps.plist("x", range(10)))  # a database already over 20 kB
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # no file may grow past 20 kB
try:
    ps.run(workers.blob, ps.plist("x", range(100, 120)))
except ps.StoreWriteError as exc:
    print("unsaved", len(exc.unsaved), sorted(exc.unsaved["x"]))
    print(str(exc).replace("\\n", " "))
"""


def test_full_disk_loses_nothing_and_leaves_database_whole():
    """When writes fail (file size limit), journaled rows survive, the rest come back attached to the error."""
    proc = subprocess.run([sys.executable, "-c", FULL_DISK, TESTS_DIR], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().split("\n")
    assert lines[0].startswith("unsaved"), proc.stdout
    n_unsaved = int(lines[0].split()[1])
    assert 0 < n_unsaved < 20
    assert "could not write" in lines[1]
    # The warning about rows kept in memory points at the user's call of run.
    warning = [line for line in proc.stderr.splitlines() if "could not write a row" in line]
    assert warning and warning[0].startswith("<string>:9: RuntimeWarning"), proc.stderr
    assert not [n for n in os.listdir("calc") if n.endswith(".tmp")]
    with open("calc/results.pk", "rb") as fd:
        assert len(pickle.load(fd)) == 10  # the old database, whole
    df = ps.df_read("calc/results.pk")  # no size limit here: the journal is folded now
    new = df[df["x"] >= 100]
    assert len(new) + n_unsaved == 20
    unsaved_x = set(eval(lines[0].split(" ", 2)[2]))
    assert set(new["x"]) | unsaved_x == set(range(100, 120))
    assert not set(new["x"]) & unsaved_x


def test_editing_a_returned_frame_does_not_change_what_is_read_next():
    """Frames returned by run/df_read are the caller's own: editing one never leaks into later reads."""
    df = ps.run(workers.square, ps.plist("x", [1, 2]))
    df["y"] = -1
    df.loc[df.index[0], "x"] = 99
    df["extra"] = "edited"
    again = ps.df_read("calc/results.pk")
    assert sorted(again["x"]) == [1, 2] and sorted(again["y"]) == [1, 4]
    assert "extra" not in again.columns
    again["y"] = 0
    third = ps.run(workers.square, ps.plist("x", [3]))
    assert sorted(third["y"]) == [1, 4, 9]


def test_database_replaced_by_another_process_is_read_again():
    """A change of results.pk by another process is seen, not hidden by this process's cache."""
    ps.run(workers.square, ps.plist("x", [1]))
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import psweep as ps, workers; "
            "ps.run(workers.square, ps.plist('x', [2]))")
    subprocess.run([sys.executable, "-c", code, TESTS_DIR], check=True, timeout=120)
    assert sorted(ps.df_read("calc/results.pk")["x"]) == [1, 2]
    ps.df_write("calc/results.pk", pd.DataFrame({"x": [7]}))
    assert ps.df_read("calc/results.pk")["x"].tolist() == [7]


# -- sequence counters --------------------------------------------------------

COUNTERS = "calc/.psweep/results.pk.counters.json"


def test_seqs_continue_across_runs_and_the_counters_file_is_readable():
    """_run_seq counts runs, _pset_seq counts psets, both without gaps across runs."""
    ps.run(workers.square, ps.plist("x", range(3)))
    df = ps.run(workers.square, ps.plist("x", range(3, 5)))
    assert df["_run_seq"].tolist() == [0, 0, 0, 1, 1]
    assert df["_pset_seq"].tolist() == [0, 1, 2, 3, 4]
    with open(COUNTERS) as fd:
        text = fd.read()
    assert '"run_seq": 1' in text and '"pset_seq": 4' in text


@pytest.mark.parametrize("damage", ["missing", "garbage", "wrong_check", "truncated", "long"])
def test_damaged_counters_file_is_rebuilt_from_the_rows(damage):
    """A lost or damaged counters file never hands out a seq twice: numbering
    resumes after the largest seq in the database and its journals."""
    ps.run(workers.square, ps.plist("x", range(3)))
    ps.run(workers.square, ps.plist("x", range(3, 5)))
    with open(COUNTERS, "rb") as fd:
        good = fd.read()
    if damage == "missing":
        os.remove(COUNTERS)
    else:
        damaged = {
            "garbage": b"\x00" * len(good),
            # A well-formed file whose numbers do not match its check value
            # (e.g. a write torn by a power cut): must not be trusted.
            "wrong_check": good.replace(b'"pset_seq": 4', b'"pset_seq": 1'),
            "truncated": good[:20],
            "long": b"x" * 500,
        }[damage]
        with open(COUNTERS, "wb") as fd:
            fd.write(damaged)
    df = ps.run(workers.square, ps.plist("x", [10]))
    assert df["_run_seq"].tolist() == [0, 0, 0, 1, 1, 2]
    assert df["_pset_seq"].tolist() == [0, 1, 2, 3, 4, 5]
    df = ps.run(workers.square, ps.plist("x", [11]))
    assert df["_pset_seq"].tolist()[-1] == 6


def test_journal_keeps_rows_with_cyclic_and_shared_values(tmp_path):
    """Rows holding a cycle or one object twice are journaled and read back equal."""
    cyclic: list = [1]
    cyclic.append(cyclic)
    shared = {"k": [1, 2]}
    journal = Journal(str(tmp_path / "run.jnl"))
    journal.append({"_pset_id": "a", "v": cyclic})
    journal.append({"_pset_id": "b", "u": shared, "w": shared})
    journal.append({"_pset_id": "c", "v": 3})
    journal.close(remove=False)
    rows = read_journal(journal.path, live=False)
    assert [r["_pset_id"] for r in rows] == ["a", "b", "c"]
    assert rows[0]["v"][1] is rows[0]["v"]
    assert rows[1]["u"] == rows[1]["w"] == shared
    assert rows[2]["v"] == 3


def test_fold_failing_after_writing_during_a_run_adds_no_duplicates(monkeypatch):
    """A compaction that wrote results.pk but then failed (here: emptying the
    journal raises once) leaves the rows pending; the next fold must not store
    them twice."""
    recorder_module = sys.modules["psweep.engine._recorder"]
    monkeypatch.setattr(recorder_module, "MIN_COMPACT_INTERVAL", 0.0)
    monkeypatch.setattr(recorder_module, "COMPACT_COST_FACTOR", 0.0)
    real_truncate = Journal.truncate
    calls = []

    def truncate_failing_once(self):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("simulated failure after the database was written")
        real_truncate(self)

    monkeypatch.setattr(Journal, "truncate", truncate_failing_once)
    df = ps.run(workers.square, ps.plist("x", range(6)))
    assert len(calls) >= 3
    assert sorted(df["x"]) == list(range(6))
    on_disk = pickle.load(open("calc/results.pk", "rb"))
    assert sorted(on_disk["x"]) == list(range(6))
    assert on_disk["_pset_id"].is_unique
