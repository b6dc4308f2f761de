"""prep_batch as a run: pset folders, submit scripts, skip_dups, simulate, two calls at once."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import psweep as ps
from batch_trees import BASH, SLURM_JOB, TIMEOUT, make_templates, run_sh, submit_lines


# -- the workflow ----------------------------------------------------------------


def test_run_script_across_two_runs(tmp_path):
    """run_<m>.sh lists every pset, earlier runs commented out; running it runs only the new jobs."""
    kw = make_templates(tmp_path / "t", machines={
        "local": ("subcmd: sh\n", "sh run.sh\n"),
        "cluster": ("subcmd: sbatch\n", "#!/bin/bash\n#SBATCH -t 10\nsh run.sh\n"),
    })
    first = ps.prep_batch(ps.plist("a", [1, 2, 3]), **kw)
    for name in ("run_local.sh", "run_cluster.sh"):
        active, commented = submit_lines(Path("calc", name))
        assert len(active) == 3 and not commented
        assert active[0].endswith("# run_seq=0 pset_seq=0") and active[2].endswith("# run_seq=0 pset_seq=2")
    proc = run_sh(Path("calc/run_local.sh"))
    assert proc.returncode == 0, proc.stderr
    for pset_id, a in zip(first["_pset_id"], first["a"]):
        assert Path("calc", pset_id, "out.txt").read_text() == f"{a}\n"

    df = ps.prep_batch(ps.plist("a", [4, 5]), **kw)
    assert len(df) == 5
    for name, cmd in (("run_local.sh", "sh jobscript_local"), ("run_cluster.sh", "sbatch jobscript_cluster")):
        active, commented = submit_lines(Path("calc", name))
        assert [line.split("# ", 2)[-1] for line in commented] == [
            f"run_seq=0 pset_seq={i}" for i in range(3)]
        assert [line.split("# ")[-1] for line in active] == ["run_seq=1 pset_seq=3", "run_seq=1 pset_seq=4"]
        assert all(cmd in line for line in active + commented)
    for pset_id in first["_pset_id"]:  # mark the first run's output
        Path("calc", pset_id, "out.txt").write_text("old\n")
    assert run_sh(Path("calc/run_local.sh")).returncode == 0
    for _, row in df.iterrows():
        expected = "old\n" if row["_run_seq"] == 0 else f"{row['a']}\n"
        assert Path("calc", row["_pset_id"], "out.txt").read_text() == expected
    if BASH:
        for name in ("run_local.sh", "run_cluster.sh"):
            assert subprocess.run([BASH, "-n", f"calc/{name}"], timeout=TIMEOUT).returncode == 0


def test_run_script_works_from_any_folder(tmp_path):
    """run_<m>.sh finds the pset folders relative to itself, wherever it is started."""
    kw = make_templates(tmp_path / "t")
    df = ps.prep_batch(ps.plist("a", [1]), **kw)
    os.mkdir("elsewhere")
    proc = subprocess.run(["sh", "../calc/run_local.sh"], cwd="elsewhere", capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert Path("calc", df["_pset_id"].iloc[0], "out.txt").read_text() == "1\n"


def test_write_pset_writes_the_pset_with_bookkeeping(tmp_path):
    """write_pset=True writes each pset, bookkeeping keys included, to <pset dir>/pset.pk."""
    kw = make_templates(tmp_path / "t")
    df = ps.prep_batch(ps.plist("a", [1, 2]), write_pset=True, **kw)
    for _, row in df.iterrows():
        with open(Path("calc", row["_pset_id"], "pset.pk"), "rb") as fd:
            pset = pickle.load(fd)
        assert pset["a"] == row["a"]
        for key in ("_pset_id", "_run_id", "_pset_hash", "_pset_seq", "_run_seq", "_calc_dir"):
            assert pset[key] == row[key]
    without = ps.prep_batch(ps.plist("a", [3]), **kw)
    assert not Path("calc", without["_pset_id"].iloc[-1], "pset.pk").exists()


def test_write_pset_file_names_only_what_every_supported_numpy_has(tmp_path):
    """pset.pk is read by the job, maybe under numpy 1 after a numpy 2 driver wrote it:
    numpy values in it are pickled without numpy 2's numpy._core names."""
    kw = make_templates(tmp_path / "t")
    df = ps.prep_batch([{"a": np.float64(0.5), "v": np.arange(3)}], write_pset=True, **kw)
    data = Path("calc", df["_pset_id"].iloc[0], "pset.pk").read_bytes()
    assert b"numpy._core" not in data
    pset = pickle.loads(data)
    assert pset["a"] == 0.5 and pset["v"].tolist() == [0, 1, 2]


def test_skip_dups_prepares_only_new_psets(tmp_path):
    """skip_dups=True writes folders and submit lines only for psets not prepared before."""
    kw = make_templates(tmp_path / "t")
    ps.prep_batch(ps.plist("a", [1, 2]), **kw)
    df = ps.prep_batch(ps.plist("a", [1, 2, 3]), skip_dups=True, **kw)
    assert df["a"].tolist() == [1, 2, 3]
    active, commented = submit_lines(Path("calc/run_local.sh"))
    assert len(commented) == 2 and len(active) == 1
    new_id = df["_pset_id"].iloc[-1]
    assert new_id in active[0]
    dirs = {p.name for p in Path("calc").iterdir() if (p / "jobscript_local").exists()}
    assert dirs == set(df["_pset_id"])


def test_prep_batch_with_nothing_new_keeps_lines_active(tmp_path):
    """Re-running a study script with skip_dups before submitting leaves the unsubmitted lines active."""
    kw = make_templates(tmp_path / "t")
    ps.prep_batch(ps.plist("a", [1, 2]), **kw)
    script = Path("calc/run_local.sh").read_text()
    df = ps.prep_batch(ps.plist("a", [1, 2]), skip_dups=True, **kw)
    assert len(df) == 2
    assert Path("calc/run_local.sh").read_text() == script
    assert len(submit_lines(Path("calc/run_local.sh"))[0]) == 2


def test_skip_dups_checks_templates_only_for_psets_that_run(tmp_path):
    """A placeholder the already-done psets lack is no error when skip_dups skips them."""
    kw = make_templates(tmp_path / "t", calc={"in.txt": "{{a}}\n"})
    ps.prep_batch(ps.plist("a", [1, 2]), **kw)
    (tmp_path / "t" / "calc" / "in.txt").write_text("{{a}} {{b}}\n")
    params = ps.plist("a", [1, 2]) + [{"a": 3, "b": 9}]
    with pytest.warns(UserWarning, match="made by other code"):  # the template changed
        df = ps.prep_batch(params, skip_dups=True, **kw)
    assert len(df) == 3
    assert Path("calc", df["_pset_id"].iloc[-1], "in.txt").read_text() == "3 9\n"
    with pytest.raises(ps.TemplateError, match="'b'"):
        ps.prep_batch(params, **kw)


def test_simulate_fills_templates_into_calc_simulate(tmp_path):
    """simulate=True writes pset folders and scripts into calc.simulate/ and leaves calc/ alone."""
    kw = make_templates(tmp_path / "t")
    ps.prep_batch(ps.plist("a", [1, 2]), **kw)
    ps.prep_batch(ps.plist("a", [3]), **kw)
    before = sorted(os.listdir("calc"))
    script = Path("calc/run_local.sh").read_text()
    sim = ps.prep_batch(ps.plist("a", [4, 5]), simulate=True, **kw)
    assert sorted(os.listdir("calc")) == before
    assert Path("calc/run_local.sh").read_text() == script
    assert len(ps.df_read("calc/results.pk")) == 3
    assert len(sim) == 5 and len(ps.df_read("calc.simulate/results.pk")) == 5
    new = sim[sim["_run_seq"] == 2]
    assert set(new["_calc_dir"]) == {"calc.simulate"}
    for pset_id, a in zip(new["_pset_id"], new["a"]):
        assert Path("calc.simulate", pset_id, "run.sh").read_text() == f"echo {a} > out.txt\n"
    active, commented = submit_lines(Path("calc.simulate/run_local.sh"))
    assert len(commented) == 3 and len(active) == 2
    assert all("run_seq=2" in line for line in active)


def test_backup_copies_calc_dir_before_second_prep(tmp_path):
    """backup=True copies calc/ (with its run script) before a prep_batch that adds rows."""
    kw = make_templates(tmp_path / "t")
    ps.prep_batch(ps.plist("a", [1]), backup=True, **kw)
    assert not list(Path(".").glob("calc_*"))
    ps.prep_batch(ps.plist("a", [2]), backup=True, **kw)
    (backup,) = Path(".").glob("calc_*")
    assert len(ps.df_read(str(backup / "results.pk"))) == 1
    assert len(submit_lines(backup / "run_local.sh")[0]) == 1


def test_rows_of_plain_runs_get_no_submit_line(tmp_path):
    """Rows of a plain ps.run in the same calc dir have no job script and get no submit line."""
    kw = make_templates(tmp_path / "t")
    ps.run(lambda pset: {"r": 1}, ps.plist("a", [10, 11]))
    df = ps.prep_batch(ps.plist("a", [1]), **kw)
    active, commented = submit_lines(Path("calc/run_local.sh"))
    assert not commented and len(active) == 1 and df["_pset_id"].iloc[-1] in active[0]


def test_prep_batch_with_a_process_pool(tmp_path):
    """poolsize=2 fills the templates in worker processes; files and submit lines are the same."""
    kw = make_templates(tmp_path / "t")
    df = ps.prep_batch(ps.plist("a", [1, 2, 3, 4]), poolsize=2, **kw)
    for pset_id, a in zip(df["_pset_id"], df["a"]):
        assert Path("calc", pset_id, "run.sh").read_text() == f"echo {a} > out.txt\n"
    assert len(submit_lines(Path("calc/run_local.sh"))[0]) == 4


def test_bad_template_mode_is_an_error(tmp_path):
    """An unknown template_mode is refused before anything is written."""
    kw = make_templates(tmp_path / "t")
    with pytest.raises(ps.ParamsError, match="template_mode"):
        ps.prep_batch(ps.plist("a", [1]), template_mode="mako", **kw)
    assert not Path("calc").exists()


# -- two prep_batch calls at once ------------------------------------------------------

CONCURRENT = """
import sys
import batch_gate
import psweep as ps

me, other, values, calc, machines = sys.argv[1:]
params = [{"a": int(v), "_gate": batch_gate.Gate(me, other)} for v in values.split(",")]
ps.prep_batch(params, calc_templ_dir=calc, machine_templ_dir=machines, array=True)
"""


def test_concurrent_prep_batch_calls_lose_nothing(tmp_path):
    """Two overlapping prep_batch calls on one calc dir: every row, folder and submit line is kept, all active."""
    kw = make_templates(tmp_path / "t", calc={"run.sh": "echo {{a}} > out.txt\n", "gate.txt": "{{_gate}}"},
                        machines={"local": ("subcmd: sh\n", "sh run.sh\n"),
                                  "cluster": ("subcmd: sbatch\n", SLURM_JOB)})
    ps.prep_batch([{"a": 0, "_gate": ""}], array=True, **kw)  # a run before both
    values = {"A": list(range(1, 41)), "B": list(range(101, 141))}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, f"{me}.started", f"{other}.started",
             ",".join(map(str, values[me])), kw["calc_templ_dir"], kw["machine_templ_dir"]],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for me, other in (("A", "B"), ("B", "A"))
    ]
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=TIMEOUT)
            assert proc.returncode == 0, err
    finally:  # leave no process behind, whatever failed
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=TIMEOUT)
    df = ps.df_read("calc/results.pk")
    assert len(df) == 1 + 80 and df["_pset_id"].is_unique
    active, commented = submit_lines(Path("calc/run_local.sh"))
    assert len(commented) == 1  # the run before both
    new = df[df["_run_seq"] > 0]
    assert sorted(line.split("$here/")[1][:36] for line in active) == sorted(new["_pset_id"])
    for pset_id in new["_pset_id"]:
        assert Path("calc", pset_id, "jobscript_local").exists()
    active, commented = submit_lines(Path("calc/run_cluster.sh"))
    assert len(active) == 2 and len(commented) == 1
    for run_seq, group in new.groupby("_run_seq"):
        listed = Path(f"calc/array_cluster_run{run_seq}.txt").read_text().split()
        assert listed == group.sort_values("_pset_seq")["_pset_id"].tolist()
        assert any(f"array_cluster_run{run_seq}.sh" in line for line in active)
    assert not [p for p in os.listdir("calc") if p.endswith(".tmp")]


KILLED = """
import sys
import batch_gate
import psweep as ps

params = [{"a": a, "_gate": ""} for a in (1, 2, 3)] + [{"a": 4, "_gate": batch_gate.KillOnRun("kill.mark")}]
ps.prep_batch(params, calc_templ_dir=sys.argv[1], machine_templ_dir=sys.argv[2])
"""


def test_psets_of_a_killed_prep_batch_get_submit_lines_next_time(tmp_path):
    """Rows a SIGKILLed prep_batch recorded are listed (active) by the next call, not lost."""
    kw = make_templates(tmp_path / "t", calc={"run.sh": "echo {{a}} > out.txt\n", "gate.txt": "{{_gate}}"})
    proc = subprocess.run([sys.executable, "-c", KILLED, kw["calc_templ_dir"], kw["machine_templ_dir"]],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == -9, proc.stderr
    assert not Path("calc/run_local.sh").exists()
    killed = ps.df_read("calc/results.pk")
    assert killed["a"].tolist() == [1, 2, 3]
    df = ps.prep_batch([{"a": a, "_gate": ""} for a in (1, 2, 3, 4)], skip_dups=True, **kw)
    assert df["a"].tolist() == [1, 2, 3, 4]
    active, commented = submit_lines(Path("calc/run_local.sh"))
    assert not commented
    assert sorted(line.split("$here/")[1][:36] for line in active) == sorted(df["_pset_id"])


# -- optional dependencies ---------------------------------------------------------------

HIDDEN = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None  # import of it now raises ImportError
import psweep as ps
assert "jinja2" not in sys.modules or sys.modules["jinja2"] is None
try:
    ps.prep_batch(ps.plist("a", [1]), calc_templ_dir=sys.argv[2], machine_templ_dir=sys.argv[3],
                  template_mode=sys.argv[4])
except ps.MissingDependencyError as exc:
    assert isinstance(exc, ImportError)
    print("ERROR:", exc)
else:
    print("OK")
"""


@pytest.mark.parametrize("hidden,mode,expected", [
    ("jinja2", "jinja", "'jinja2'"),
    ("yaml", "jinja", "'pyyaml'"),
    ("jinja2", "dollar", "OK"),
])
def test_without_jinja2_or_pyyaml(tmp_path, hidden, mode, expected):
    """Without jinja2/pyyaml, psweep imports and prep_batch says what to install; dollar mode needs no jinja2."""
    kw = make_templates(tmp_path / "t", calc={"in.txt": "$a {{a}}\n"})
    proc = subprocess.run(
        [sys.executable, "-c", HIDDEN, hidden, kw["calc_templ_dir"], kw["machine_templ_dir"], mode],
        capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert expected in proc.stdout
    if expected != "OK":
        assert "pip install 'psweep[batch]'" in proc.stdout
        assert not Path("calc").exists()


def test_importing_psweep_imports_neither_jinja2_nor_yaml():
    """import psweep leaves the optional batch dependencies unimported."""
    code = "import sys, psweep; print(sorted({'jinja2', 'yaml'} & set(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
