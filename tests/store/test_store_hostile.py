"""Tests of psweep/store.py on hostile ground (issue 12).

Deleted lock files, racing readers, prefix-sharing databases, read-only and
full disks, unreadable journals. Real files, real filelock, real processes.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import time

import pandas as pd
import pytest

import psweep as ps
import workers
from helpers import start_driver, wait_until
from psweep.store._store import Store

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))




def start_script(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen) -> None:
    """Kill `proc` if it still runs and reap it."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


def start_together(procs: list[subprocess.Popen]) -> None:
    """Wait until every driver printed "ready", then let them all go."""
    for proc in procs:
        wait_until(lambda proc=proc: proc.stdout.readline().strip() == "ready", 120, "driver start")
    open("go", "w").close()


# -- item 3: a deleted lock file --------------------------------------------------

DELETE_LOCK = """
import os, sys, time
path = sys.argv[1]
print("deleting", flush=True)
while not os.path.exists("stop"):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    time.sleep(0.005)
"""


def test_lock_file_deleted_every_5_ms_loses_no_rows():
    """6 drivers x 30 runs x 10 psets, the lock file deleted every 5 ms: all 1,800 rows, ids and seqs unique."""
    n_drivers, n_runs, n_psets = 6, 30, 10
    deleter = start_script(DELETE_LOCK, "calc/results.pk.lock")
    procs = []
    try:
        assert deleter.stdout.readline().strip() == "deleting"
        procs = [
            start_driver("calc", str(1000 * i), str(n_psets), "--runs", str(n_runs),
                         "--sleep", "0", "--go", "go")
            for i in range(n_drivers)
        ]
        start_together(procs)
        for proc in procs:
            assert proc.wait(timeout=300) == 0, proc.stderr.read()
    finally:
        open("stop", "w").close()
        for proc in [deleter, *procs]:
            stop(proc)
    df = ps.df_read("calc/results.pk")
    assert len(df) == n_drivers * n_runs * n_psets
    assert df["_pset_id"].is_unique
    assert df["_pset_seq"].is_unique
    run_seqs = df.groupby("_run_id")["_run_seq"].agg(["nunique", "first"])
    assert len(run_seqs) == n_drivers * n_runs
    assert (run_seqs["nunique"] == 1).all()
    assert run_seqs["first"].is_unique


# -- item 1: readers never go backwards ----------------------------------------------

READ_LOOP = """
import os, sys, time
import psweep as ps
import workers
seen, reads, backwards, worst = set(), 0, 0, 0
deadline = time.monotonic() + 120
while not os.path.exists("writer-done") and time.monotonic() < deadline:
    ids = set(ps.df_read("calc/results.pk")["_pset_id"])
    reads += 1
    if not seen <= ids:
        backwards += 1
        worst = max(worst, len(seen - ids))
    seen = ids
print(reads, backwards, worst, flush=True)
"""

EXTEND_LOOP = """
import sys
sys.path.insert(0, sys.argv[1])
import psweep as ps, workers
import psweep.engine._recorder as recorder
# Fold after every row (not at most every 5 s): each fold is a chance.
recorder.MIN_COMPACT_INTERVAL = recorder.COMPACT_COST_FACTOR = 0.0
for i in range(int(sys.argv[2])):
    params = [{"x": x, "sleep": 0.002} for x in range(100 * i, 100 * i + 10)]
    ps.run(workers.slow_square, params)
open("writer-done", "w").close()
"""


def test_reads_in_other_processes_never_go_backwards_while_a_study_grows():
    """Processes looping ps.df_read while another extends the study never see fewer rows than before."""
    # Many folds (small runs that fold after every row), each a chance for a
    # reader to read the file before it and the journals after it; the file
    # of 10000 rows takes a reader long enough to read that folds land there.
    # With the file read before the journals, 5 reads of ~730 went backwards
    # in each of 3 tries (80 runs that fold once each on 1000 rows: 1 of ~12000).
    ps.run(workers.square, ps.plist("x", range(10000)))
    readers = [start_script(READ_LOOP) for _ in range(2)]
    writer = start_script(EXTEND_LOOP, TESTS_DIR, "30")
    try:
        assert writer.wait(timeout=300) == 0, writer.stderr.read()
        outs = [reader.communicate(timeout=300) for reader in readers]
    finally:
        for proc in [writer, *readers]:
            stop(proc)
    for reader, (out, err) in zip(readers, outs):
        assert reader.returncode == 0, err
        reads, backwards, worst = map(int, out.split())
        assert reads > 50, f"only {reads} reads overlapped the writer"
        assert backwards == 0, f"{backwards} of {reads} reads lost up to {worst} rows seen before"


# -- item 4: databases sharing a prefix ----------------------------------------------


def test_fold_removes_only_its_own_databases_stale_temp_files():
    """A fold of results.pk leaves a temp file of results.pk.v2 alone; v2's own fold removes it."""
    os.makedirs("calc")
    theirs = "calc/.results.pk.v2.0123abcd.tmp"
    ours = "calc/.results.pk.89abcdef.tmp"
    for path in (theirs, ours):
        open(path, "w").close()  # as left by killed writers
    ps.run(workers.square, ps.plist("x", [1]))
    assert os.path.exists(theirs)
    assert not os.path.exists(ours)
    ps.run(workers.square, ps.plist("x", [1]), database_basename="results.pk.v2")
    assert not os.path.exists(theirs)


def test_concurrent_runs_on_prefix_sharing_databases_all_succeed():
    """Drivers on results.pk and results.pk.v2 in one calc dir at once all succeed, each database whole."""
    procs = [
        start_driver("calc", "0", "5", "--runs", "20", "--sleep", "0", "--go", "go", "--basename", name)
        for name in ("results.pk", "results.pk.v2")
    ]
    try:
        start_together(procs)
        for proc in procs:
            assert proc.wait(timeout=300) == 0, proc.stderr.read()
    finally:
        for proc in procs:
            stop(proc)
    for name in ("results.pk", "results.pk.v2"):
        df = ps.df_read(f"calc/{name}")
        assert len(df) == 100
        assert df["_pset_id"].is_unique


# -- item 2: read-only and full disks ------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs mounted at tmp_path/disk (root only), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=60)


def remount(disk, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(disk)], check=True, timeout=60)


def leave_dead_journal(calc_dir: str, xs) -> None:
    """Rows of a run killed before its fold: a journal nobody holds."""
    journal = Store(calc_dir).open_journal(f"dead-{xs[0]}")
    for x in xs:
        journal.append({"_pset_id": f"dead-{x}", "x": x, "_time_utc": time.time()})
    journal.close(remove=False)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "psweep", *args], capture_output=True,
                          text=True, timeout=120)


def test_read_only_mount_reads_database_and_all_journals(small_disk):
    """On a read-only mount df_read and the CLI return every row (database + dead run's journal), no OSError."""
    calc = str(small_disk / "calc")
    ps.run(workers.square, ps.plist("x", [1, 2]), calc_dir=calc)
    leave_dead_journal(calc, [7, 8])
    remount(small_disk, "ro")
    df = ps.df_read(f"{calc}/results.pk")
    assert sorted(df["x"]) == [1, 2, 7, 8]
    for command in (["show", calc], ["runs", calc], ["check", calc],
                    ["export", calc, "--to", "csv", "-o", "out.csv"]):
        proc = cli(*command)
        assert proc.returncode == 0, (command, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert len(pd.read_csv("out.csv")) == 4


def test_full_disk_reads_database_and_the_journal_it_cannot_fold(small_disk):
    """On a full disk df_read returns every row although folding a dead run's journal fails."""
    calc = str(small_disk / "calc")
    ps.run(workers.square, ps.plist("x", range(50)), calc_dir=calc)
    leave_dead_journal(calc, [1000, 1001])
    with open(small_disk / "filler", "wb") as fd:  # fill the disk
        with contextlib.suppress(OSError):
            while True:
                fd.write(b"\0" * 65536)
                fd.flush()
    df = ps.df_read(f"{calc}/results.pk")
    assert len(df) == 52
    assert {1000, 1001} <= set(df["x"])
    assert cli("check", calc).returncode == 0
    os.remove(small_disk / "filler")
    assert len(ps.df_read(f"{calc}/results.pk")) == 52  # now folded
    assert Store(calc).journal_status() == []


# -- item 6: database_basename checked first --------------------------------------------


@pytest.mark.parametrize("name", ["", "/tmp/results.pk", "sub/results.pk", ".", "..", ".psweep", 3])
def test_bad_database_basename_is_a_params_error_before_any_work(name):
    """A database_basename that is no plain file name is a ParamsError naming it; nothing runs or is created."""
    params = [{"x": 1, "log": os.path.abspath("ran.log")}]
    with pytest.raises(ps.ParamsError, match="database_basename=") as info:
        ps.run(workers.logged_square, params, database_basename=name)
    assert repr(name) in str(info.value)
    assert "results.pk" in str(info.value)  # the fix
    assert not os.path.exists("ran.log")
    assert not os.path.exists("calc")


# -- item 9: a full disk at the start ------------------------------------------------


def test_full_disk_at_start_is_a_store_write_error_before_any_pset(small_disk):
    """A run on a full disk raises StoreWriteError naming the calc dir; no pset runs, the database is unchanged."""
    calc = str(small_disk / "calc")
    ps.run(workers.square, ps.plist("x", [1, 2]), calc_dir=calc)
    before = open(f"{calc}/results.pk", "rb").read()
    with open(small_disk / "filler", "wb") as fd:
        with contextlib.suppress(OSError):
            while True:
                fd.write(b"\0" * 65536)
                fd.flush()
    params = [{"x": x, "log": os.path.abspath("ran.log")} for x in range(3)]
    with pytest.raises(ps.StoreWriteError, match="calc_dir=") as info:
        ps.run(workers.logged_square, params, calc_dir=calc)
    assert calc in str(info.value)
    assert not os.path.exists("ran.log")
    assert open(f"{calc}/results.pk", "rb").read() == before


# -- items 7 and 8: unreadable journals, classes this process lacks ---------------------

MAIN_CLASS = """
import sys, time
import psweep as ps
from psweep.store import Store

class Point:  # defined in __main__: other processes cannot unpickle it
    def __init__(self, x):
        self.x = x

def func(pset):
    return {"p": Point(pset["x"])}

if sys.argv[1] == "journal":
    journal = Store("calc").open_journal("dead-main-class")
    journal.append({"_pset_id": "m1", "x": 1, "p": Point(1), "_time_utc": time.time()})
    journal.append({"_pset_id": "m2", "x": 2, "_time_utc": time.time()})
    journal.close(remove=False)
else:
    ps.run(func, ps.plist("x", [1, 2]), calc_dir="calc")
"""


def bad_journal(records: list) -> str:
    """A dead run's journal holding `records` (whole, framed records)."""
    journal = Store("calc").open_journal("dead-bad")
    for record in records:
        journal.append(record)
    journal.close(remove=False)
    return journal.path


@pytest.mark.parametrize(
    "bad, reason",
    [
        ([1, 2, 3], "a list, not a row dict"),
        ({"_pset_id": "b", "x": 5, "_time_utc": "not a time"}, "is not a time"),
    ],
)
def test_journal_record_that_is_no_row_is_skipped_and_the_journal_quarantined(bad, reason):
    """A record that is no row: a warning names file, record, reason; good rows kept; journal set aside."""
    ps.run(workers.square, ps.plist("x", [1]))
    path = bad_journal([{"_pset_id": "g1", "x": 7, "_time_utc": time.time()}, bad,
                        {"_pset_id": "g2", "x": 8, "_time_utc": time.time()}])
    with pytest.warns(RuntimeWarning, match="unreadable") as record:
        df = ps.df_read("calc/results.pk")
    message = str(record[0].message)
    assert path in message and "offset" in message and reason in message
    assert sorted(df["x"]) == [1, 7, 8]
    assert not os.path.exists(path)
    quarantined = Store("calc").quarantined()
    assert [os.path.basename(p) for p in quarantined] == [os.path.basename(path)]
    assert sorted(ps.run(workers.square, ps.plist("x", [2]))["x"]) == [1, 2, 7, 8]
    proc = cli("check", "calc")
    assert proc.returncode == 0, proc.stderr
    assert quarantined[0] in proc.stdout


def test_folder_named_like_a_journal_is_set_aside():
    """A folder named x.jnl among the journals is reported and moved away, not an IsADirectoryError."""
    ps.run(workers.square, ps.plist("x", [1]))
    os.makedirs("calc/.psweep/journal/results.pk/x.jnl")
    with pytest.warns(RuntimeWarning, match="x.jnl"):
        df = ps.df_read("calc/results.pk")
    assert list(df["x"]) == [1]
    assert len(ps.run(workers.square, ps.plist("x", [2]))) == 2
    assert [os.path.basename(p) for p in Store("calc").quarantined()] == ["x.jnl"]


def test_journal_record_of_a_class_from_another_scripts_main_names_module_class_and_fix():
    """A journal row holding another script's __main__ class: the warning names module, class, fix."""
    proc = start_script(MAIN_CLASS, "journal")
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    with pytest.warns(RuntimeWarning, match="unreadable") as record:
        df = ps.df_read("calc/results.pk")
    message = str(record[0].message)
    assert "'Point'" in message and "'__main__'" in message and "importable module" in message
    assert list(df["x"]) == [2]
    assert len(Store("calc").quarantined()) == 1


def test_database_needing_a_missing_class_is_told_apart_from_a_damaged_one():
    """A database with a __main__ class names the class and its fix; a truncated one says damaged and restore."""
    proc = start_script(MAIN_CLASS, "db")
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    with pytest.raises(ps.DatabaseError) as info:
        ps.df_read("calc/results.pk")
    message = str(info.value)
    assert "'Point'" in message and "'__main__'" in message and "importable module" in message
    assert "damaged" not in message and "backup" not in message
    data = open("calc/results.pk", "rb").read()
    with open("calc/results.pk", "wb") as fd:
        fd.write(data[: len(data) // 2])
    with pytest.raises(ps.DatabaseError, match="damaged.*backup"):
        ps.df_read("calc/results.pk")
    with open("calc/results.pk", "wb") as fd:
        pickle.dump([1, 2], fd)
    with pytest.raises(ps.DatabaseError, match="damaged: it holds a list"):
        ps.df_read("calc/results.pk")


# -- item 5: concurrent dry runs -------------------------------------------------------

SIMULATE_LOOP = """
import sys
sys.path.insert(0, sys.argv[1])
import psweep as ps, workers
wrong = 0
for i in range(int(sys.argv[2])):
    df = ps.run(workers.square, ps.plist("x", [-1, -2, -3]), simulate=True)
    wrong += len(df) != int(sys.argv[3]) + 3 or sorted(df["x"].tolist())[:3] != [-3, -2, -1]
print(wrong, flush=True)
"""


def test_concurrent_dry_runs_each_return_the_database_plus_their_own_rows():
    """Two processes looping simulate=True on one calc dir: each frame is the db plus its rows; db untouched."""
    ps.run(workers.square, ps.plist("x", range(2000)))
    before = open("calc/results.pk", "rb").read()
    procs = [start_script(SIMULATE_LOOP, TESTS_DIR, "10", "2000") for _ in range(2)]
    try:
        outs = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            stop(proc)
    for proc, (out, err) in zip(procs, outs):
        assert proc.returncode == 0, err
        assert out.strip() == "0", f"{out.strip()} of 10 dry runs returned a wrong frame"
    assert open("calc/results.pk", "rb").read() == before
    assert not os.path.exists("calc/.psweep/journal/results.pk") or not os.listdir(
        "calc/.psweep/journal/results.pk")


# -- item 10: litter of a killed backup -------------------------------------------------

SLOW_BACKUP = """
import sys
sys.path.insert(0, sys.argv[1])
import psweep as ps, workers
ps.run(workers.square, ps.plist("x", [2]), backup=True)
"""


def temp_backups() -> list[str]:
    return [n for n in os.listdir(".") if n.startswith(".calc_") and ".tmp-" in n
            and not n.endswith(".lock")]


def test_temp_folder_of_a_killed_backup_is_removed_by_the_next_backup():
    """SIGKILL during backup=True's copy leaves a temp folder; the next backup removes it, a live one's stays."""
    ps.run(workers.square, ps.plist("x", [1]))
    for i in range(3000):  # files enough for a copy that takes a while
        with open(f"calc/f{i}.txt", "w") as fd:
            fd.write("x" * 100)
    proc = start_script(SLOW_BACKUP, TESTS_DIR)
    try:
        wait_until(lambda: temp_backups() or proc.poll() is not None, 60, "the backup's temp folder")
        proc.kill()
    finally:
        stop(proc)
    assert temp_backups(), "the backup finished before it could be killed"
    live = ".calc_live.tmp-0000abcd"
    os.makedirs(live)
    holder = start_script(HOLD_FLOCK, live + ".lock")
    try:
        assert holder.stdout.readline().strip() == "locked"
        ps.run(workers.square, ps.plist("x", [3]), backup=True)
        assert temp_backups() == [live]
        assert sorted(n for n in os.listdir(".") if n.endswith(".lock")) == [live + ".lock"]
    finally:
        stop(holder)
    assert len([n for n in os.listdir(".") if n.startswith("calc_")]) == 1


HOLD_FLOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(600)
"""
