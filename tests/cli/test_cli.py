"""The psweep command, run as a real subprocess, and per-run provenance files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
import warnings

import pandas as pd
import pytest

import psweep as ps
import psweep.cli as cli_mod
import psweep.cli._runs_table as runs_table
import workers
from helpers import read_lines, wait_until
from psweep.store._store import Store

PSWEEP = os.path.join(os.path.dirname(sys.executable), "psweep")
DRIVER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "drivers.py")


def cli_command() -> list[str]:
    return [PSWEEP] if os.path.exists(PSWEEP) else [sys.executable, "-m", "psweep"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*cli_command(), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def study():
    """A calc dir with two runs, one failed pset and a pset folder."""
    ps.run(workers.square, ps.plist("x", [1, 2]))
    with pytest.warns(UserWarning):
        df = ps.run(workers.fail_on_3, ps.plist("x", [3, 4]))
    os.makedirs(os.path.join("calc", df["_pset_id"].iloc[0]))
    return df


def test_show_prints_params_and_results_without_bookkeeping(study):
    """psweep show prints a table of params/results; _ columns only with --all (or for failures)."""
    out = cli("show", "calc")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0].split() == ["_failed", "x", "y", "_exc_txt"]
    assert "_pset_id" not in out.stdout
    out = cli("show", "calc", "--all")
    assert "_pset_id" in out.stdout


def test_show_columns_failed_run_and_formats(study):
    """Columns, --failed, --run and csv/github formats select and render rows."""
    out = cli("show", "calc/results.pk", "x", "--failed", "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["x", "3"]
    run_id = study["_run_id"].iloc[0]
    out = cli("show", "calc", "x", "--run", run_id[:8], "--format", "github")
    lines = out.stdout.strip().split("\n")
    assert lines[0].startswith("| x")
    assert len(lines) == 4  # header, separator, two rows
    out = cli("show", "calc", "nosuchcol")
    assert out.returncode == 2 and "nosuchcol" in out.stderr


def test_runs_lists_one_line_per_run(study):
    """psweep runs prints one line per run: state, planned, done, failed, start, last row."""
    out = cli("runs", "calc")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().split("\n")
    assert len(lines) == 3
    assert lines[0].split() == ["_run_id", "state", "planned", "done", "failed", "start",
                                "last_row", "rows/s", "eta", "host", "source"]
    last = lines[2].split()
    assert last[0] == study["_run_id"].iloc[-1]
    assert last[1:5] == ["finished", "2", "2", "1"]


def test_runs_tells_a_sigkilled_run_from_a_finished_one():
    """A SIGKILLed driver's run shows killed with planned > done, not like a finished run."""
    proc = subprocess.Popen([sys.executable, DRIVER, "calc", "0", "300", "--sleep", "0.01",
                             "--log", "done.log"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: len(read_lines("done.log")) >= 10, 60, "10 finished psets")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    ps.run(workers.square, ps.plist("x", [1]))
    lines = cli("runs").stdout.strip().split("\n")
    killed, finished = lines[1].split(), lines[2].split()
    assert killed[1:3] == ["killed", "300"] and 10 <= int(killed[3]) < 300
    assert finished[1:4] == ["finished", "1", "1"]


def start_held_run(count: int = 100) -> subprocess.Popen:
    """A driver running `count` psets, once its first rows are recorded; from the 6th pset on it
    is held (running, 5 rows done) until the file `go` exists (`release_held_run`)."""
    proc = subprocess.Popen([sys.executable, DRIVER, "calc", "0", str(count), "--sleep", "0.005",
                             "--log", "done.log", "--hold", "go"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: len(read_lines("done.log")) >= 3, 60, "3 finished psets")
    return proc


def release_held_run() -> None:
    """Let the run of `start_held_run` go on to its end (well under a second)."""
    with open("go", "w"):
        pass


def read_text(path: str) -> str:
    """The text of the file at `path`, "" if it does not exist yet."""
    if not os.path.exists(path):
        return ""
    with open(path) as fd:
        return fd.read()


def test_runs_watch_plain_output_refreshes_until_no_run_is_live():
    """Not in a terminal, runs --watch prints a table per change and exits when no run is live."""
    proc = start_held_run()
    try:
        with open("watch.out", "w") as out:
            watch = subprocess.Popen([*cli_command(), "runs", "--watch", "--interval", "0.2"],
                                     stdout=out, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: "\n\n" in read_text("watch.out"), 60, "the first table")
            release_held_run()
            _, stderr = watch.communicate(timeout=120)
        finally:
            if watch.poll() is None:
                watch.kill()
                watch.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert watch.returncode == 0, stderr
    stdout = read_text("watch.out")
    assert "\x1b[" not in stdout  # no terminal control codes in a log
    tables = [t for t in stdout.strip().split("\n\n") if t]
    assert len(tables) >= 2
    assert "1 running" in tables[0] and " running " in tables[0].split("\n")[2]
    running = tables[0].split("\n")[2].split()
    assert running[2] == "100" and float(running[-4]) > 0  # planned, rows/s
    assert "0 running" in tables[-1] and " finished " in tables[-1].split("\n")[2]
    assert tables[-1].split("\n")[2].split()[3] == "100"  # done


def run_line(screen: str, state: str) -> list[str] | None:
    """The fields of the first table line of a run in `state` on `screen`."""
    for line in screen.split("\n"):
        fields = line.split()
        if len(fields) > 2 and fields[1] == state:
            return fields
    return None


@pytest.fixture
def tmux(tmp_path):
    """A private tmux server (own socket in tmp_path), killed and its socket removed in teardown."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    # In tmp_path, not tmux's folder in /tmp, which would keep the socket file.
    socket = str(tmp_path / f"tmux-{uuid.uuid4().hex[:8]}")

    def run(*args: str) -> str:
        return subprocess.run(["tmux", "-S", socket, *args], capture_output=True, text=True,
                              timeout=30, check=True).stdout

    try:
        yield run
    finally:
        subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True, timeout=30)
        if os.path.exists(socket):
            os.remove(socket)


def watch_in_tmux(tmux, options: str) -> str:
    """Type `psweep status OPTIONS` into a fresh 220x30 tmux window; the screen once a run shows running."""
    tmux("new-session", "-d", "-s", "w", "-x", "220", "-y", "30", "-c", os.getcwd())
    tmux("send-keys", "-t", "w", f"{' '.join(cli_command())} status {options}; echo WATCH-ENDED $?", "Enter")
    wait_until(lambda: run_line(screen_of(tmux), "running"), 60, "a running run on screen")
    return screen_of(tmux)


def screen_of(tmux) -> str:
    return tmux("capture-pane", "-p", "-t", "w")


def test_status_in_a_terminal_redraws_in_place_until_the_run_ends(tmux):
    """In a real terminal, psweep status redraws one table in place and returns when the run ends."""
    proc = start_held_run()
    try:
        screen = watch_in_tmux(tmux, "--interval 0.2")
        assert screen.count("psweep status calc") == 1  # cleared and redrawn, not scrolled
        assert "Ctrl-C to stop watching" in screen
        line = run_line(screen, "running")
        assert line[2] == "100" and ":" in line[-3]  # planned, an ETA like 0:00:03
        release_held_run()
        wait_until(lambda: "WATCH-ENDED 0" in screen_of(tmux), 120, "the watch to end")
        screen = screen_of(tmux)
        assert run_line(screen, "finished")[3] == "100" and "0 running" in screen
        # drawn while running and again at the end, in the same place
        assert screen.count("psweep status calc") == 1
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_status_stops_watching_on_ctrl_c_and_leaves_the_run_alone(tmux):
    """Ctrl-C in psweep status ends the watch at once; the watched run goes on."""
    proc = start_held_run()
    try:
        watch_in_tmux(tmux, "")
        tmux("send-keys", "-t", "w", "C-c")
        wait_until(lambda: "WATCH-ENDED 0" in screen_of(tmux), 30, "the watch to end")
        assert "Traceback" not in screen_of(tmux)
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait(timeout=30)


def make_rows(n: int, failed: tuple[int, ...] = ()) -> None:
    """A database of `n` rows x=0..n-1 in calc/, the rows at `failed` failed."""
    def func(pset):
        if pset["x"] in failed:
            raise ValueError(f"bad x={pset['x']}")
        return {"y": pset["x"] * 2}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ps.run(func, ps.plist("x", range(n)))


def test_show_is_bounded_by_default_with_head_tail_and_count():
    """psweep show prints the first and last 10 of 50 rows, a gap and the row count."""
    make_rows(50)
    lines = cli("show").stdout.strip().split("\n")
    assert lines[0].split() == ["x", "y"]
    xs = [int(line.split()[0]) for line in lines[1:] if line.strip()[:1].isdigit()]
    assert xs == list(range(10)) + list(range(40, 50))
    assert lines[11] == "..."
    assert "50 rows x 2 columns" in lines[-1] and "--all-rows" in lines[-1]


def test_show_limit_and_all_rows():
    """--limit N shows N rows (head and tail), --all-rows shows every row."""
    make_rows(50)
    out = cli("show", "--limit", "4", "--format", "github").stdout
    body = [line for line in out.split("\n") if line.startswith("| ")][1:]
    assert [cells.split("|")[1].strip() for cells in body] == ["0", "1", "...", "48", "49"]
    lines = cli("show", "--all-rows").stdout.strip().split("\n")
    assert len(lines) == 51 and "..." not in lines
    assert cli("show", "--format", "csv").stdout.count("\n") == 51  # csv: all rows
    assert cli("show", "--limit", "0").returncode == 2


def test_show_marks_failed_rows_with_last_line_of_traceback(study):
    """Failed rows are marked FAILED with the last line of _exc_txt; --full prints whole tracebacks."""
    out = cli("show")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().split("\n")
    assert lines[0].split() == ["_failed", "x", "y", "_exc_txt"]
    failed = [line for line in lines if "FAILED" in line]
    assert len(failed) == 1 and failed[0].split()[:2] == ["FAILED", "3"]
    assert "ValueError: x is 3" in failed[0]
    assert "Traceback" not in out.stdout
    out = cli("show", "--failed", "--full")
    assert "Traceback (most recent call last)" in out.stdout
    assert "in fail_on_3" in out.stdout


def test_show_on_successful_rows_has_no_failure_columns():
    """Without failed rows among those shown, show adds no _failed/_exc_txt columns."""
    make_rows(30, failed=(15,))
    assert cli("show").stdout.split("\n")[0].split() == ["x", "y"]  # row 15 is in the gap


def test_export_without_target_uses_calc(study):
    """psweep export with no target and no --to writes calc's rows to results.csv."""
    out = cli("export")
    assert out.returncode == 0, out.stderr
    assert sorted(pd.read_csv("results.csv")["x"]) == [1, 2, 3, 4]
    out = cli("export", "-o", "r.json")
    assert out.returncode == 0, out.stderr
    assert len(pd.read_json("r.json", orient="records")) == 4
    out = cli("export", "-o", "r.txt")
    assert out.returncode == 2 and "--to" in out.stderr


def test_version_and_help_say_what_is_new():
    """psweep --version prints the version; --help names runs, status and the show options."""
    out = cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"psweep {ps.__version__}"
    text = cli("--help").stdout
    assert "--version" in text and "status" in text and "killed" in text
    text = cli("show", "--help").stdout
    assert "--limit" in text and "--all-rows" in text and "--full" in text


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_writes_readable_file(study, fmt):
    """psweep export --to csv/json writes every row."""
    out = cli("export", "calc", "--to", fmt, "-o", f"out.{fmt}")
    assert out.returncode == 0, out.stderr
    back = pd.read_csv("out.csv") if fmt == "csv" else pd.read_json("out.json", orient="records")
    assert sorted(back["x"]) == [1, 2, 3, 4]


def test_export_parquet_needs_pyarrow_or_works(study):
    """Parquet export works with pyarrow, else says to install it (exit 2)."""
    out = cli("export", "calc", "--to", "parquet", "-o", "out.parquet")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        assert out.returncode == 2
        assert "pip install pyarrow" in out.stderr
    else:
        assert out.returncode == 0, out.stderr


def test_check_reports_folders_pending_and_lock(study):
    """psweep check counts pset folders with/without rows, pending rows and the lock."""
    os.makedirs("calc/00000000-0000-0000-0000-000000000000")
    journal = Store("calc").open_journal("dead")
    journal.append({"_pset_id": "p", "x": 9, "_time_utc": pd.Timestamp("2026-01-01")})
    journal.close(remove=False)
    out = cli("check", "calc")
    assert out.returncode == 0, out.stderr
    assert "1 with a row, 1 without a row" in out.stdout
    assert "pending rows: 1 in 1 journals" in out.stdout
    assert "free" in out.stdout
    assert "file system: " in out.stdout and "locks seen by other hosts: " in out.stdout
    assert "PSWEEP_LIVENESS_TIMEOUT" in out.stdout


def test_compact_folds_pending_rows(study):
    """psweep compact folds a dead run's journal into results.pk."""
    journal = Store("calc").open_journal("dead")
    journal.append({"_pset_id": "p", "x": 9, "_time_utc": pd.Timestamp("2026-01-01")})
    journal.close(remove=False)
    out = cli("compact", "calc")
    assert out.returncode == 0, out.stderr
    assert "folded 1 pending rows" in out.stdout
    assert len(pd.read_pickle("calc/results.pk")) == 5


@pytest.mark.parametrize("command", ["show", "runs", "check", "compact"])
def test_missing_or_corrupt_database_is_one_line_exit_2(command):
    """A missing or corrupt database gives a one-line error and exit code 2."""
    out = cli(command, "nowhere")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    os.makedirs("bad")
    with open("bad/results.pk", "wb") as fd:
        fd.write(b"not a pickle")
    out = cli(command, "bad")
    assert out.returncode == 2, out.stdout
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_provenance_json_per_run():
    """Every run writes backup_script/<_run_id>.json with versions and host."""
    df = ps.run(workers.square, ps.plist("x", [1]))
    run_id = df["_run_id"].iloc[0]
    info = json.load(open(f"calc/backup_script/{run_id}.json"))
    assert info["_run_id"] == run_id
    assert info["packages"]["pandas"] == pd.__version__
    assert info["packages"]["psweep"] == ps.__version__
    assert info["host"]
    assert "git" not in info


def test_git_provenance_records_commit_dirty_and_diff():
    """git=True records commit and dirty flag, and writes the uncommitted diff."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "--allow-empty", "-m", "init"]):
        subprocess.run(["git", *args], check=True, env=env, timeout=60)
    with open("study.py", "w") as fd:
        fd.write("x = 1\n")
    subprocess.run(["git", "add", "study.py"], check=True, timeout=60)
    subprocess.run(["git", "commit", "-q", "-m", "study"], check=True, env=env, timeout=60)
    with open("study.py", "a") as fd:
        fd.write("y = 2\n")
    df = ps.run(workers.square, ps.plist("x", [1]), git=True)
    run_id = df["_run_id"].iloc[0]
    info = json.load(open(f"calc/backup_script/{run_id}.json"))
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                          timeout=60).stdout.strip()
    assert info["git"]["commit"] == head
    assert info["git"]["dirty"] is True
    assert "+y = 2" in open(f"calc/backup_script/{run_id}.diff").read()


def test_git_outside_repo_is_a_clear_error_before_work(tmp_path):
    """git=True outside a git work tree raises before anything is written."""
    env_dir = tmp_path / "nogit"
    env_dir.mkdir()
    os.chdir(env_dir)
    os.environ["GIT_CEILING_DIRECTORIES"] = str(tmp_path)
    try:
        with pytest.raises(ps.PsweepError, match="not inside a git work tree"):
            ps.run(workers.square, ps.plist("x", [1]), git=True)
    finally:
        del os.environ["GIT_CEILING_DIRECTORIES"]
    assert not os.path.exists("calc")


# ---------------------------------------------------------------------------
# psweep 0.16's console scripts
# ---------------------------------------------------------------------------


def script(name: str, *args: str) -> subprocess.CompletedProcess:
    """Run an installed console script of this venv as a real process."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    return subprocess.run([path, *args], capture_output=True, text=True, timeout=120)


def entry(capsys, main, *args: str) -> tuple[int, str, str]:
    """Call a console script's entry function in-process: (exit code, stdout, stderr)."""
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_installed_0_16_scripts_run_as_processes(study):
    """The five 0.16 scripts are installed; psweep-db2json and psweep-db2table run as processes."""
    out = script("psweep-db2json", "-o", "columns", "calc/results.pk")
    assert out.returncode == 0, out.stderr
    assert list(json.loads(out.stdout)["x"].values()) == [1, 2, 3, 4]
    table = script("psweep-db2table", "-i", "-a", "-f", "simple", "calc/results.pk")
    assert table.returncode == 0 and "_pset_id" in table.stdout.splitlines()[0]
    bindir = os.path.dirname(sys.executable)
    for name in ("psweep-checkdir", "psweep-push", "psweep-pull"):
        assert os.access(os.path.join(bindir, name), os.X_OK), name


def test_db2json_prints_the_database_with_0_16_flags(study, capsys):
    """db2json [-o orient] FILE prints rows as JSON (records by default); a calc dir works too."""
    code, out, err = entry(capsys, cli_mod.db2json_main, "calc/results.pk")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["x"] for r in rows] == [1, 2, 3, 4]
    assert rows[2]["_failed"] is True
    assert pd.Timestamp(rows[0]["_time_utc"]) == ps.df_read("calc/results.pk")["_time_utc"].iloc[0]
    code, out, _ = entry(capsys, cli_mod.db2json_main, "-o", "split", "calc")
    assert json.loads(out)["columns"][0] == "x"
    code, out, err = entry(capsys, cli_mod.db2json_main, "nothere")
    assert code == 2 and err.startswith("psweep-db2json: 'nothere': no such calc dir")
    with pytest.raises(SystemExit):
        cli_mod.db2json_main(["-o", "nope", "calc"])
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_db2table_selects_columns_all_and_index(study, capsys):
    """db2table: default without _ columns, -a all, COLUMN... picks, -i the index."""
    code, out, err = entry(capsys, cli_mod.db2table_main, "calc/results.pk")
    assert code == 0, err
    header, dashes, *rows = out.splitlines()
    assert header.split() == ["x", "y"] and set(dashes) <= {"-", " "} and len(rows) == 4
    assert rows[0].split() == ["1", "1"]  # y: ints with a gap (the failed row) stay ints (Int64)
    _, out, _ = entry(capsys, cli_mod.db2table_main, "-i", "-a", "calc")
    assert out.splitlines()[0].split()[:2] == ["index", "x"] and "_pset_id" in out.splitlines()[0]
    _, out, _ = entry(capsys, cli_mod.db2table_main, "-f", "github", "calc", "x")
    assert out.splitlines()[0] == "| x |" and len(out.splitlines()) == 6
    code, _, err = entry(capsys, cli_mod.db2table_main, "calc", "nope")
    assert code == 2 and "no column 'nope'" in err


def test_db2table_other_formats_need_tabulate(study, capsys):
    """A tabulate-only -f format without tabulate installed is one line naming the fix."""
    try:
        import tabulate  # noqa: F401
    except ImportError:
        code, _, err = entry(capsys, cli_mod.db2table_main, "-f", "latex", "calc")
        assert code == 2 and "pip install tabulate" in err
    else:
        assert "\\begin{tabular}" in entry(capsys, cli_mod.db2table_main, "-f", "latex", "calc")[1]


def test_checkdir_prints_folders_without_rows_and_rows_without_folders(study, capsys):
    """checkdir CALC_DIR prints check_calc_dir's two sets as sorted JSON lists."""
    stray = ps.get_uuid()
    os.makedirs(os.path.join("calc", stray))
    code, out, err = entry(capsys, cli_mod.checkdir_main, "calc")
    assert code == 0, err
    found = json.loads(out)
    assert found["disk_not_db"] == [stray]
    with_folder = study["_pset_id"].iloc[0]
    assert found["db_not_disk"] == sorted(set(ps.df_read("calc/results.pk")["_pset_id"]) - {with_folder})
    code, _, err = entry(capsys, cli_mod.checkdir_main, "nothere")
    assert code == 2 and "'nothere' is not a calc dir" in err


@pytest.fixture
def fake_remote(tmp_path, monkeypatch):
    """$HOME/proj/study as cwd and stand-ins for rsync and ssh that log their argv."""
    home = tmp_path / "home"
    study = home / "proj" / "study"
    (study / "calc").mkdir(parents=True)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "argv.log"
    for tool in ("rsync", "ssh"):
        exe = bindir / tool
        exe.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\n')
        exe.chmod(0o755)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(study)
    return study, log


def test_pull_rsyncs_calc_from_the_same_path_under_home(fake_remote, capsys):
    """pull HOST [opts]: rsync -rptgoD -vP [opts] [rules] HOST:proj/study/calc ./"""
    study, log = fake_remote
    (study / "excl_pull").write_text("*.tmp\n")
    (study / "rsync.filter").write_text("- big/\n")
    code, out, err = entry(capsys, cli_mod.pull_main, "hpc.example.org", "-n", "-L")
    assert code == 0, err
    expected = ("rsync -rptgoD -vP -n -L --exclude-from=excl_pull --filter=merge rsync.filter "
                "hpc.example.org:proj/study/calc ./")
    assert log.read_text().splitlines() == [expected]
    assert out.startswith("executing: rsync -rptgoD -vP -n -L")


def test_push_makes_the_remote_folder_then_rsyncs_calc(fake_remote, capsys):
    """push HOST: ssh HOST mkdir -pv proj/study/calc, then rsync calc/ HOST:proj/study/calc/."""
    study, log = fake_remote
    (study / "rsync.exclude").write_text("*.tmp\n")
    code, _, err = entry(capsys, cli_mod.push_main, "hpc.example.org")
    assert code == 0, err
    assert log.read_text().splitlines() == [
        "ssh hpc.example.org mkdir -pv proj/study/calc",
        "rsync -rptgoD -vP --exclude-from=rsync.exclude calc/ hpc.example.org:proj/study/calc/",
    ]


def test_push_pull_without_rsync_is_one_line_exit_2(fake_remote, tmp_path, monkeypatch, capsys):
    """No rsync on PATH: the command is shown, then one line naming the missing program."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, out, err = entry(capsys, cli_mod.pull_main, "h")
    assert code == 2 and out.startswith("executing: rsync") and "rsync is not installed" in err


def test_show_run_prefix_selects_whole_runs(study):
    """--run takes a _run_id prefix of any run; one matching nothing is a one-line error."""
    first = ps.df_read("calc/results.pk")["_run_id"].iloc[0]
    out = cli("show", "--run", first[:4], "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["x,y", "1,1", "2,4"]  # y: ints with a gap (the failed row) stay ints
    out = cli("show", "--run", "not-a-run")
    assert out.returncode == 2 and "'not-a-run'" in out.stderr and "psweep runs" in out.stderr


def test_compact_of_a_folder_without_database_is_an_error_that_writes_nothing():
    """psweep compact on a folder with no database: exit 2, one line naming it and what it holds, no lock file."""
    os.makedirs("notes/sub")
    with open("notes/a.txt", "w") as fd:
        fd.write("x\n")
    out = cli("compact", "notes")
    assert out.returncode == 2, out.stdout
    assert out.stderr.count("\n") == 1 and "'notes'" in out.stderr and "a.txt, sub" in out.stderr
    assert "0 rows" not in out.stdout
    assert sorted(os.listdir("notes")) == ["a.txt", "sub"]
    os.makedirs("empty")
    out = cli("compact", "empty")
    assert out.returncode == 2 and "empty" in out.stderr and os.listdir("empty") == []


# -- psweep runs/status fit the terminal (issue 20, item 22) ----------------------------


def wide_runs_table() -> pd.DataFrame:
    """ps.runs of three finished runs with their source files and a long host name."""
    for _ in range(3):
        ps.run(workers.square, ps.plist("x", [1, 2]), source="print(1)\n")
    table = ps.runs("calc")
    assert table["source"].notna().all()
    return table.assign(host="node-0042.cluster.example.org")


@pytest.mark.parametrize("width,columns", [
    (None, ["_run_id", "state", "planned", "done", "failed", "start", "last_row", "rows/s", "eta", "host",
            "source"]),
    (150, ["_run_id", "state", "planned", "done", "failed", "start", "last_row", "rows/s", "eta", "host"]),
    (120, ["_run_id", "state", "planned", "done", "failed", "start", "last_row", "rows/s", "eta", "host"]),
    (100, ["_run_id", "state", "planned", "done", "failed", "start", "last_row", "rows/s", "eta"]),
    (80, ["_run_id", "state", "planned", "done", "failed", "start", "last_row", "rows/s", "eta"]),
    (70, ["_run_id", "state", "planned", "done", "failed", "last_row", "rows/s", "eta"]),
    (60, ["_run_id", "state", "planned", "done", "failed", "last_row", "eta"]),
    (30, ["_run_id", "state", "planned", "done", "failed", "eta"]),
])
def test_runs_text_fits_the_width_in_the_documented_order(width, columns):
    """runs_text drops and shortens columns in RUNS_FIT_STEPS order until every line fits the width."""
    table = wide_runs_table()
    lines = runs_table.runs_text(table, width).split("\n")
    assert lines[0].split() == columns
    assert len(lines) == 1 + len(table)
    for line, run_id in zip(lines[1:], table["_run_id"]):
        fields = line.split()
        assert len(fields) == len(columns) + ("start" in columns) + ("last_row" in columns)
        assert run_id.startswith(fields[0]) and len(fields[0]) >= (36 if width is None or width > 200 else 8)
        assert fields[1] == "finished"
    if width is not None and width >= 60:
        assert max(map(len, lines)) <= width


def test_full_runs_table_is_wider_than_120_columns():
    """The table that wrapped: all columns with whole ids and source paths need more than 120 columns."""
    assert max(map(len, runs_table.runs_text(wide_runs_table()).split("\n"))) > 120


def test_run_id_prefixes_stay_unique():
    """Shortened run ids grow past 8 characters where two ids share their first 8."""
    ids = ["abcdefgh-1111", "abcdefgh-2222", "12345678-0000", "abcdefgh-1111"]
    assert runs_table._unique_prefixes(ids, 8) == ["abcdefgh-1", "abcdefgh-2", "12345678-0", "abcdefgh-1"]
    assert runs_table._unique_prefixes(["a" * 36], 8) == ["a" * 8]


def test_runs_in_a_pipe_prints_every_column_whole():
    """Not in a terminal (a pipe, a log), psweep runs prints all columns and whole ids."""
    table = wide_runs_table()
    out = cli("runs", "calc")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0].split()[-1] == "source"
    assert table["_run_id"].iloc[0] in out.stdout


def tmux_screen_after(tmux, command: str, done: str, width: int = 120) -> list[str]:
    """Type `command` into a fresh tmux window of `width` x 40; its lines once `done` is on screen."""
    tmux("new-session", "-d", "-s", "w", "-x", str(width), "-y", "40", "-c", os.getcwd())
    tmux("send-keys", "-t", "w", command, "Enter")
    wait_until(lambda: done in screen_of(tmux), 60, repr(done))
    return screen_of(tmux).split("\n")


def table_lines(screen: list[str]) -> tuple[list[str], list[list[str]]]:
    """The header fields and the field lists of the lines below it, up to an empty line."""
    start = next(i for i, line in enumerate(screen) if line.split()[:2] == ["_run_id", "state"])
    rows = []
    for line in screen[start + 1:]:
        if not line.strip() or "ENDED" in line:
            break
        rows.append(line.split())
    return screen[start].split(), rows


def test_runs_fits_a_120_column_terminal(tmux):
    """In a real 120-column terminal, psweep runs prints one unwrapped line per run, ids shortened."""
    table = wide_runs_table()
    screen = tmux_screen_after(tmux, f"{' '.join(cli_command())} runs calc; echo RUNS-ENDED $?", "RUNS-ENDED 0")
    header, rows = table_lines(screen)
    assert header[-2:] == ["eta", "host"] and "source" not in header
    assert len(rows) == 3
    for fields, run_id in zip(rows, table["_run_id"]):
        assert len(fields) == len(header) + 2  # start and last_row hold a space
        assert run_id.startswith(fields[0]) and fields[1] == "finished"
    assert max(len(line.rstrip()) for line in screen) <= 120


def test_status_watch_fits_a_100_column_terminal(tmux):
    """psweep status in a 100-column terminal redraws a table that fits, with the running run's eta."""
    proc = start_held_run()
    try:
        command = f"{' '.join(cli_command())} status --interval 0.2; echo WATCH-ENDED $?"
        tmux("new-session", "-d", "-s", "w", "-x", "100", "-y", "40", "-c", os.getcwd())
        tmux("send-keys", "-t", "w", command, "Enter")
        wait_until(lambda: run_line(screen_of(tmux), "running"), 60, "a running run on screen")
        screen = screen_of(tmux).split("\n")
        header, rows = table_lines(screen)
        assert "eta" in header and "source" not in header
        running = next(fields for fields in rows if fields[1] == "running")
        assert len(running) == len(header) + 2 and ":" in running[header.index("eta") + 2]
        assert len(running[0]) == 8
        assert max(len(line.rstrip()) for line in screen) <= 100
        release_held_run()
        wait_until(lambda: "WATCH-ENDED 0" in screen_of(tmux), 120, "the watch to end")
    finally:
        proc.kill()
        proc.wait(timeout=30)
