"""ps.runs: the state of each run, told by real driver processes, real locks and real SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pandas as pd
import pytest

import psweep as ps
import workers
from helpers import read_lines, wait_until
from psweep.provenance._status import COLUMNS

DRIVER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "drivers.py")


def start_driver(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, DRIVER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def children_of(pid: int) -> list[int]:
    """Pids of the live child processes of `pid` (Linux /proc)."""
    kids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fd:
                    fields = fd.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(name))
    return kids


@pytest.fixture
def driver():
    """Start driver processes; kill and reap each one, and any pool worker it left, at the end."""
    procs = []
    orphans = []

    def start(*args: str) -> subprocess.Popen:
        procs.append(start_driver(*args))
        return procs[-1]

    def sigkill(proc: subprocess.Popen) -> None:
        # Pool workers of a SIGKILLed driver are not reaped by this test
        # process: note them first, to kill them in teardown.
        orphans.extend(children_of(proc.pid))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    start.sigkill = sigkill
    yield start
    for proc in procs:
        orphans.extend(children_of(proc.pid))
        proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    for pid in orphans:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_until(lambda: not any(map(_alive, orphans)), 30, "orphaned pool workers to exit")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fd:
            return fd.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def only_run(calc_dir: str = "calc") -> pd.Series:
    table = ps.runs(calc_dir)
    assert len(table) == 1, table
    return table.iloc[0]


def test_finished_run_has_planned_done_and_failed():
    """A run that ran all its psets is finished, with planned, done and failed counts."""
    with pytest.warns(UserWarning, match="1 of 4 psets failed"):
        df = ps.run(workers.fail_on_3, ps.plist("x", [1, 2, 3, 4]))
    table = ps.runs("calc")
    assert list(table.columns) == COLUMNS
    run = table.iloc[0]
    assert run["_run_id"] == df["_run_id"].iloc[0]
    assert (run["state"], run["planned"], run["done"], run["failed"]) == ("finished", 4, 4, 1)
    assert run["start"] <= df["_time_utc"].min() <= run["last_row"]
    assert pd.isna(run["rows_per_s"]) and pd.isna(run["eta"])


def test_runs_sorted_by_start_and_skipped_psets_not_planned():
    """Runs are listed in start order; psets skipped by skip_dups are not planned."""
    first = ps.run(workers.square, ps.plist("x", [1, 2]))
    second = ps.run(workers.square, ps.plist("x", [1, 2, 3]), skip_dups=True)
    table = ps.runs("calc")
    assert table["_run_id"].tolist() == [first["_run_id"].iloc[0], second["_run_id"].iloc[-1]]
    assert table["planned"].tolist() == [2, 1]
    assert table["done"].tolist() == [2, 1]


def test_sigkilled_run_is_killed_not_finished(driver):
    """A driver killed by SIGKILL mid-run reads as killed, with done < planned."""
    proc = driver("calc", "0", "300", "--sleep", "0.01", "--log", "done.log")
    wait_until(lambda: len(read_lines("done.log")) >= 20, 60, "20 finished psets")
    driver.sigkill(proc)
    run = only_run()
    assert run["state"] == "killed"
    assert run["planned"] == 300
    assert 19 <= run["done"] < 300
    assert pd.isna(run["eta"])


def test_killed_before_its_first_row_is_listed():
    """A run killed before any pset finished is listed as killed with done 0."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import psweep as ps, workers; "
         "ps.run(workers.slow_square, [{'x': 1, 'sleep': 60}])"],
    )
    try:
        # The run record itself, not the source file or the record's temporary
        # file, which appear first.
        wait_until(lambda: os.path.isdir("calc/backup_script") and any(
            name.endswith(".json") and not name.startswith(".") for name in os.listdir("calc/backup_script")
        ), 60, "the run's provenance file")
        run = only_run()
        assert (run["state"], run["planned"], run["done"]) == ("running", 1, 0)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    run = only_run()
    assert (run["state"], run["planned"], run["done"]) == ("killed", 1, 0)


def test_running_run_has_rate_and_eta_then_finishes(driver):
    """A live run is running, with rows/s and an ETA; when it ends it is finished."""
    proc = driver("calc", "0", "150", "--sleep", "0.02", "--log", "done.log")
    wait_until(lambda: len(read_lines("done.log")) >= 10, 60, "10 finished psets")
    run = only_run()
    assert run["state"] == "running"
    assert run["planned"] == 150 and 1 <= run["done"] < 150
    assert run["rows_per_s"] > 0
    assert pd.Timedelta(0) < run["eta"] < pd.Timedelta(hours=1)
    assert run["host"]
    proc.wait(timeout=120)
    assert proc.returncode == 0
    run = only_run()
    assert (run["state"], run["done"]) == ("finished", 150)


def test_sigkilled_pool_driver_is_killed_while_workers_linger(driver):
    """With a process pool, a SIGKILLed driver reads as killed at once, workers or not."""
    proc = driver("calc", "0", "400", "--sleep", "0.02", "--poolsize", "2", "--log", "done.log")
    wait_until(lambda: len(read_lines("done.log")) >= 20, 90, "20 finished psets")
    driver.sigkill(proc)
    assert only_run()["state"] == "killed"


def test_ctrl_c_reads_interrupted(driver):
    """A run stopped by Ctrl-C (SIGINT) reads as interrupted."""
    proc = driver("calc", "0", "300", "--sleep", "0.02", "--log", "done.log")
    wait_until(lambda: len(read_lines("done.log")) >= 10, 60, "10 finished psets")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert "KeyboardInterrupt" in err
    run = only_run()
    assert run["state"] == "interrupted"
    assert 10 <= run["done"] < 300


def test_run_ended_by_an_exception_reads_stopped():
    """on_error="raise" ends the run: it reads as stopped, with the error in provenance."""
    with pytest.raises(ValueError, match="x is 3"):
        ps.run(workers.fail_on_3, ps.plist("x", [1, 3, 4]), on_error="raise")
    run = only_run()
    assert (run["state"], run["planned"], run["done"], run["failed"]) == ("stopped", 3, 2, 1)
    info = json.load(open(f"calc/backup_script/{run['_run_id']}.json"))
    assert info["end"]["error"].startswith("ValueError: x is 3")


def test_provenance_records_planned_pid_and_end_marker():
    """The provenance file holds planned, pid, database, start and the end marker."""
    df = ps.run(workers.square, ps.plist("x", [1, 2]))
    info = json.load(open(f"calc/backup_script/{df['_run_id'].iloc[0]}.json"))
    assert (info["planned"], info["pid"], info["database"]) == (2, os.getpid(), "results.pk")
    assert pd.Timestamp(info["start_utc"]) <= df["_time_utc"].min()
    assert info["end"]["state"] == "finished"
    assert (info["end"]["rows"], info["end"]["failed"]) == (2, 0)
    assert [n for n in os.listdir("calc/backup_script") if n.startswith(".")] == []


def test_save_false_lists_nothing_and_simulate_lists_under_simulate_dir():
    """save=False records no run; a simulate run is listed in <calc_dir>.simulate."""
    ps.run(workers.square, ps.plist("x", [1]))
    ps.run(workers.square, ps.plist("x", [2, 3]), save=False)
    sim_df = ps.run(workers.square, ps.plist("x", [4, 5, 6]), simulate=True)
    assert ps.runs("calc")["planned"].tolist() == [1]
    sim = ps.runs("calc.simulate").set_index("_run_id").loc[sim_df["_run_id"].iloc[-1]]
    assert (sim["state"], sim["planned"], sim["done"]) == ("finished", 3, 3)


def test_runs_of_another_database_in_the_same_calc_dir_are_apart():
    """Runs on database_basename="other.pk" are listed for it, not for results.pk."""
    ps.run(workers.square, ps.plist("x", [1]))
    ps.run(workers.square, ps.plist("x", [1, 2]), database_basename="other.pk")
    assert ps.runs("calc")["planned"].tolist() == [1]
    assert ps.runs("calc", database_basename="other.pk")["planned"].tolist() == [2]


def test_rows_without_provenance_read_unknown():
    """Rows of a database written without end markers (older psweep) read as unknown."""
    df = ps.run(workers.square, ps.plist("x", [1, 2]))
    ps.df_write("old/results.pk", df)
    run = only_run("old")
    assert (run["state"], run["done"]) == ("unknown", 2)
    assert pd.isna(run["planned"])


def test_no_database_nor_runs_is_a_clear_error():
    """A calc dir with neither a database nor a run raises DatabaseNotFoundError."""
    os.makedirs("empty")
    with pytest.raises(ps.DatabaseNotFoundError, match="empty"):
        ps.runs("empty")


def remove_backup_script(pset):
    """Replace the calc dir's backup_script/ folder by a file, as a careless user might, mid-run."""
    import shutil

    folder = os.path.join(pset["_calc_dir"], "backup_script")
    shutil.rmtree(folder)
    with open(folder, "w") as fd:
        fd.write("not a folder\n")
    return {"y": 1}


def remove_backup_script_folder(pset):
    """Remove the calc dir's backup_script/ folder mid-run."""
    import shutil

    shutil.rmtree(os.path.join(pset["_calc_dir"], "backup_script"))
    return {"y": 1}


def test_end_marker_that_cannot_be_written_warns_and_keeps_the_result():
    """If the end marker cannot be written, the run warns and returns its rows anyway."""
    with pytest.warns(RuntimeWarning, match="could not write the end marker"):
        df = ps.run(remove_backup_script, ps.plist("x", [1]))
    assert len(df) == 1 and len(ps.df_read("calc/results.pk")) == 1
    os.remove("calc/backup_script")
    assert only_run()["state"] == "unknown"  # its provenance file went with the folder


def test_run_record_removed_mid_run_is_written_whole_at_the_end():
    """The folder of run records removed during a run: the end marker writes the whole record anew."""
    ps.run(remove_backup_script_folder, ps.plist("x", [1]))
    assert only_run()["state"] == "finished"


def test_two_databases_concatenated_keep_their_runs_apart():
    """Runs whose _run_seq collide (databases concatenated by hand) are still counted per _run_id."""
    a = ps.run(workers.square, ps.plist("x", [1, 2]), calc_dir="a")
    b = ps.run(workers.square, ps.plist("x", [3, 4, 5]), calc_dir="b")
    assert a["_run_seq"].iloc[0] == b["_run_seq"].iloc[0]
    ps.df_write("merged/results.pk", pd.concat([a, b]))
    table = ps.runs("merged").set_index("_run_id")
    assert table.loc[a["_run_id"].iloc[0], "done"] == 2
    assert table.loc[b["_run_id"].iloc[0], "done"] == 3
