"""Tests of psweep/backup.py: calc dir backups and source files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pandas as pd

import psweep as ps
import workers
from psweep.provenance._backup import backup_name


def test_no_backup_without_database():
    """backup=True on a fresh calc dir copies nothing."""
    ps.run(workers.square, ps.plist("x", [1]), backup=True)
    assert sorted(os.listdir(".")) == ["calc"]


def test_backup_copies_calc_dir_named_after_last_time_utc():
    """Before changing an existing db, calc/ is copied to calc_<last _time_utc>."""
    df1 = ps.run(workers.square, ps.plist("x", [1, 2]))
    os.makedirs("calc/data")
    with open("calc/data/file.txt", "w") as fd:
        fd.write("payload")
    os.symlink("data/file.txt", "calc/link.txt")
    ps.run(workers.square, ps.plist("x", [3]), backup=True)
    stamp = df1["_time_utc"].max().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    dst = f"calc_{stamp}"
    assert os.path.isdir(dst)
    assert open(f"{dst}/data/file.txt").read() == "payload"
    assert os.path.islink(f"{dst}/link.txt")
    assert len(ps.df_read(f"{dst}/results.pk")) == 2
    assert len(ps.df_read("calc/results.pk")) == 3


def test_backup_calc_dir_is_old_name_of_backup():
    """backup_calc_dir=True works like backup=True."""
    ps.run(workers.square, ps.plist("x", [1]))
    ps.run(workers.square, ps.plist("x", [2]), backup_calc_dir=True)
    assert len([d for d in os.listdir(".") if d.startswith("calc_")]) == 1


def test_existing_backup_of_same_state_is_kept():
    """A backup folder of the same state is kept, not copied again nor an error."""
    ps.run(workers.square, ps.plist("x", [1]))
    db = ps.df_read("calc/results.pk")
    dst = backup_name("calc", db)
    os.makedirs(dst)
    with open(os.path.join(dst, "marker"), "w") as fd:
        fd.write("first")
    ps.run(workers.square, ps.plist("x", [2]), backup=True)
    assert os.listdir(dst) == ["marker"]
    assert not [d for d in os.listdir(".") if ".tmp-" in d]


def test_backup_name_format():
    """The backup of calc/ with last row at t is calc_<ISO t>Z, a sibling."""
    db = pd.DataFrame({"_time_utc": [pd.Timestamp("2026-11-27T19:06:07.845008")]})
    assert backup_name("some/calc/", db) == "some/calc_2026-11-27T19:06:07.845008Z"


def test_two_drivers_backing_up_together_make_one_whole_backup():
    """Two drivers starting at once with backup=True leave one backup and all rows."""
    ps.run(workers.square, ps.plist("x", [0]))
    script = textwrap.dedent("""
        import os, sys, time
        sys.path.insert(0, sys.argv[2])
        import psweep as ps, workers
        while not os.path.exists("go"):
            time.sleep(0.005)
        ps.run(workers.square, ps.plist("x", [int(sys.argv[1])]), backup=True)
    """)
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(i), tests_dir]) for i in (1, 2)
    ]
    open("go", "w").close()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    backups = sorted(d for d in os.listdir(".") if d.startswith("calc_"))
    # the first backs up the 1-row state; the second sees 2 rows: a new state
    assert 1 <= len(backups) <= 2
    assert not [d for d in os.listdir(".") if ".tmp-" in d]
    for backup in backups:
        assert len(ps.df_read(f"{backup}/results.pk")) in (1, 2)
    assert sorted(ps.df_read("calc/results.pk")["x"]) == [0, 1, 2]


def test_backup_script_copies_the_file_per_run():
    """backup_script=path copies that file to calc/backup_script/<_run_id>.py."""
    with open("myscript.py", "w") as fd:
        fd.write("# my study\n")
    df = ps.run(workers.square, ps.plist("x", [1]), backup_script="myscript.py")
    run_id = df["_run_id"].iloc[0]
    assert open(f"calc/backup_script/{run_id}.py").read() == "# my study\n"
