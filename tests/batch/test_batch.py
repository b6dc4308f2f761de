"""prep_batch, the template classes, job arrays and df_gather, on real files and processes."""

from __future__ import annotations

import os
import pickle
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psweep as ps

TIMEOUT = 120
BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="needs bash")


def make_templates(root: Path, calc: dict[str, str | bytes] | None = None,
                   machines: dict[str, tuple[str, str]] | None = None) -> dict[str, str]:
    """Write a template tree under `root`; return prep_batch's keywords for it."""
    calc = {"run.sh": "echo {{a}} > out.txt\n"} if calc is None else calc
    machines = {"local": ("subcmd: sh\n", "sh run.sh\n")} if machines is None else machines
    for name, content in calc.items():
        path = root / "calc" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    (root / "machines").mkdir(parents=True, exist_ok=True)
    for name, (info, jobscript) in machines.items():
        (root / "machines" / name).mkdir()
        (root / "machines" / name / "info.yaml").write_text(info)
        (root / "machines" / name / "jobscript").write_text(jobscript)
    return {"calc_templ_dir": str(root / "calc"), "machine_templ_dir": str(root / "machines")}


def submit_lines(path: Path) -> tuple[list[str], list[str]]:
    """The (active, commented) submit lines of a run script."""
    active, commented = [], []
    for line in path.read_text().splitlines():
        if "run_seq=" in line:
            (commented if line.startswith("#") else active).append(line)
    return active, commented


def run_sh(script: Path, env: dict[str, str] | None = None, shell: str = "sh") -> subprocess.CompletedProcess:
    return subprocess.run([shell, str(script)], capture_output=True, text=True, timeout=TIMEOUT,
                          env={**os.environ, **(env or {})})


# -- rendering -------------------------------------------------------------------


def test_jinja_fills_pset_and_bookkeeping_keys(tmp_path):
    """Every calc template, subfolders included, is filled with the pset and its bookkeeping keys."""
    kw = make_templates(tmp_path / "t", calc={
        "input.txt": "a={{a}} b={{ b }} id={{_pset_id}} seq={{_pset_seq}}\n",
        "sub/deep.txt": "{{a * 10}}\n",
    })
    df = ps.prep_batch(ps.pgrid(ps.plist("a", [1, 2]), ps.plist("b", ["x"])), **kw)
    assert len(df) == 2
    for _, row in df.iterrows():
        folder = Path("calc", row["_pset_id"])
        assert (folder / "input.txt").read_text() == (
            f"a={row['a']} b=x id={row['_pset_id']} seq={row['_pset_seq']}\n")
        assert (folder / "sub" / "deep.txt").read_text() == f"{row['a'] * 10}\n"
        assert (folder / "jobscript_local").read_text() == "sh run.sh\n"


def test_dollar_mode_fills_dollar_placeholders_only(tmp_path):
    """template_mode='dollar' replaces $name and ${name}, turns $$ into $, and leaves {{...}} alone."""
    kw = make_templates(tmp_path / "t", calc={"job.sh": "echo $a ${a}x $$HOME {{a}}\n"},
                        machines={"local": ("subcmd: sh\n", "echo $$(hostname) $_pset_seq\n")})
    df = ps.prep_batch(ps.plist("a", [7]), template_mode="dollar", **kw)
    folder = Path("calc", df["_pset_id"].iloc[0])
    assert (folder / "job.sh").read_text() == "echo 7 7x $HOME {{a}}\n"
    assert (folder / "jobscript_local").read_text() == f"echo $(hostname) {df['_pset_seq'].iloc[0]}\n"


def test_template_file_mode_is_kept(tmp_path):
    """An executable template gives an executable file in each pset folder."""
    kw = make_templates(tmp_path / "t", calc={"run.sh": "#!/bin/sh\necho {{a}}\n"})
    os.chmod(tmp_path / "t" / "calc" / "run.sh", 0o755)
    df = ps.prep_batch(ps.plist("a", [1]), **kw)
    mode = os.stat(Path("calc", df["_pset_id"].iloc[0], "run.sh")).st_mode
    assert mode & stat.S_IXUSR


@pytest.mark.parametrize("mode,text,key", [
    ("jinja", "x = {{a}}\ny = {{missing_key}}\n", "missing_key"),
    ("dollar", "x = $a\ny = $missing_key\n", "missing_key"),
])
def test_unfilled_placeholder_names_file_and_key_and_writes_nothing(tmp_path, mode, text, key):
    """A placeholder one pset does not fill is a TemplateError naming file, key and pset; nothing is written."""
    kw = make_templates(tmp_path / "t", calc={"input.txt": text})
    params = [{"a": 1, "missing_key": 5}, {"a": 2, "missing_key": 6}, {"a": 3}]
    with pytest.raises(ps.TemplateError) as info:
        ps.prep_batch(params, template_mode=mode, **kw)
    msg = str(info.value)
    assert str(tmp_path / "t" / "calc" / "input.txt") in msg
    assert key in msg and "pset #2" in msg
    assert not Path("calc").exists()


def test_unfilled_placeholder_leaves_existing_study_as_it_was(tmp_path):
    """A failing second prep_batch adds no row, no pset folder and no submit line."""
    kw = make_templates(tmp_path / "t", calc={"input.txt": "{{a}} {{b}}\n"})
    ps.prep_batch(ps.pgrid(ps.plist("a", [1, 2]), ps.plist("b", [0])), **kw)
    before = sorted(os.listdir("calc"))
    script = Path("calc/run_local.sh").read_text()
    with pytest.raises(ps.TemplateError, match="'b'"):
        ps.prep_batch([{"a": 3, "b": 1}, {"a": 4}], **kw)
    assert sorted(os.listdir("calc")) == before
    assert len(ps.df_read("calc/results.pk")) == 2
    assert Path("calc/run_local.sh").read_text() == script


def test_jinja_syntax_error_names_file_and_line(tmp_path):
    """A jinja syntax error names the template and the line, before anything is written."""
    kw = make_templates(tmp_path / "t", calc={"input.txt": "ok\n{% if %}\n"})
    with pytest.raises(ps.TemplateError, match=r"input\.txt.*line 2"):
        ps.prep_batch(ps.plist("a", [1]), **kw)
    assert not Path("calc").exists()


def test_pset_failing_in_the_run_is_recorded_and_gets_no_submit_line(tmp_path):
    """A template that fails only with a pset's real bookkeeping values fails that pset only."""
    # The check before the run fills _pset_seq with 0; the run's pset #1 divides by zero.
    kw = make_templates(tmp_path / "t", calc={"in.txt": "{{ 10 // (_pset_seq - 1) }}\n"})
    with pytest.warns(UserWarning, match="1 of 3 psets failed"):
        df = ps.prep_batch(ps.plist("a", [1, 2, 3]), **kw)
    failed = df[df["_failed"]]
    assert failed["_pset_seq"].tolist() == [1]
    assert "ZeroDivisionError" in failed["_exc_txt"].iloc[0] and "in.txt" in failed["_exc_txt"].iloc[0]
    assert not Path("calc", failed["_pset_id"].iloc[0]).exists()
    active, _ = submit_lines(Path("calc/run_local.sh"))
    assert [line.split("pset_seq=")[1] for line in active] == ["0", "2"]


def test_binary_template_is_copied_unchanged(tmp_path):
    """A binary file among the templates (NUL bytes, not UTF-8) is copied byte for byte."""
    blob = b"\x89PNG\r\n\x1a\n\x00\xff{{a}}$a\xfe\x00"
    kw = make_templates(tmp_path / "t", calc={"image.png": blob, "input.txt": "{{a}}\n"})
    for mode in ("jinja", "dollar"):
        df = ps.prep_batch(ps.plist("a", [1]), template_mode=mode, **kw)
        folder = Path("calc", df["_pset_id"].iloc[-1])
        assert (folder / "image.png").read_bytes() == blob
    assert ps.FileTemplate(tmp_path / "t" / "calc" / "image.png").is_binary


def test_clashing_target_names_are_an_error(tmp_path):
    """A calc template named like a job script (or pset.pk with write_pset) is refused before writing."""
    kw = make_templates(tmp_path / "t", calc={"jobscript_local": "x\n", "pset.pk": "y\n"})
    with pytest.raises(ps.TemplateError, match="jobscript_local"):
        ps.prep_batch(ps.plist("a", [1]), **kw)
    shutil.rmtree(tmp_path / "t")
    kw = make_templates(tmp_path / "t", calc={"pset.pk": "y\n"})
    with pytest.raises(ps.TemplateError, match="pset.pk"):
        ps.prep_batch(ps.plist("a", [1]), write_pset=True, **kw)
    assert not Path("calc").exists()


# -- machines ------------------------------------------------------------------


@pytest.mark.parametrize("info,match", [
    (None, "info.yaml"),
    ("array: true\n", "subcmd"),
    ("subcmd: sh\nscheduler: lsf\n", "scheduler"),
    ("subcmd: sh\narray: true\n", "scheduler: slurm"),
    ("subcmd: qsub\nscheduler: pbs\narray_limit: 0\n", "array_limit"),
    ("subcmd: sh\ntemplate: x\n", "template"),
    ("- a list\n", "mapping"),
])
def test_bad_machine_folders_are_clear_errors(tmp_path, info, match):
    """A missing info.yaml, missing subcmd or a bad array setting names the file and the fix."""
    mdir = tmp_path / "machines" / "m"
    mdir.mkdir(parents=True)
    (mdir / "jobscript").write_text("true\n")
    if info is not None:
        (mdir / "info.yaml").write_text(info)
    with pytest.raises(ps.TemplateError, match=match):
        ps.Machine(mdir)


def test_missing_template_folders_are_clear_errors(tmp_path):
    """Template folders that do not exist are TemplateErrors naming the path."""
    with pytest.raises(ps.TemplateError, match="calc_templ_dir"):
        ps.gather_calc_templates(tmp_path / "nope")
    with pytest.raises(ps.TemplateError, match="machine_templ_dir"):
        ps.gather_machines(tmp_path / "nope")
    (tmp_path / "machines" / "m").mkdir(parents=True)
    (tmp_path / "machines" / "m" / "info.yaml").write_text("subcmd: sh\n")
    with pytest.raises(ps.TemplateError, match="job script"):
        ps.gather_machines(tmp_path / "machines")


def test_machine_info_keys_become_attributes(tmp_path):
    """Every info.yaml key is an attribute, as in psweep 0.16; qsub machines name their scheduler."""
    mdir = tmp_path / "machines" / "hpc"
    mdir.mkdir(parents=True)
    (mdir / "jobscript").write_text("true\n")
    (mdir / "info.yaml").write_text("subcmd: qsub\nscheduler: sge\nqueue: long\n")
    machine = ps.gather_machines(tmp_path / "machines")[0]
    assert (machine.name, machine.subcmd, machine.scheduler, machine.queue) == ("hpc", "qsub", "sge", "long")
    assert machine.template.targetname == "jobscript_hpc"
    assert not machine.array and machine.array_limit is None


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


# -- job arrays --------------------------------------------------------------------

SLURM_JOB = "#!/bin/bash\n#SBATCH --time=00:05:00\n#SBATCH --mem=1G\n\necho task {{a}} > out.txt\n"


@needs_bash
def test_slurm_array_runs_each_task_in_its_pset_folder(tmp_path):
    """array=True writes one array script per run; task k runs in the k-th pset folder of its list."""
    kw = make_templates(tmp_path / "t", machines={"cluster": ("subcmd: sbatch\narray_limit: 2\n", SLURM_JOB)})
    df = ps.prep_batch(ps.plist("a", [1, 2, 3]), array=True, **kw)
    listing = Path("calc/array_cluster_run0.txt").read_text().split()
    assert listing == df["_pset_id"].tolist()
    script = Path("calc/array_cluster_run0.sh")
    text = script.read_text()
    assert "#SBATCH --time=00:05:00\n#SBATCH --mem=1G\n" in text
    assert subprocess.run([BASH, "-n", str(script)], timeout=TIMEOUT).returncode == 0
    assert subprocess.run([BASH, "-n", "calc/run_cluster.sh"], timeout=TIMEOUT).returncode == 0
    active, _ = submit_lines(Path("calc/run_cluster.sh"))
    assert len(active) == 1 and "sbatch --array=0-2%2 array_cluster_run0.sh" in active[0]
    for task in (2, 0, 1):
        env = {"SLURM_ARRAY_TASK_ID": str(task), "SLURM_SUBMIT_DIR": os.path.abspath("calc")}
        proc = run_sh(script, env=env)
        assert proc.returncode == 0, proc.stderr
    for pset_id, a in zip(df["_pset_id"], df["a"]):
        assert Path("calc", pset_id, "out.txt").read_text() == f"task {a}\n"
    proc = run_sh(script, env={"SLURM_ARRAY_TASK_ID": "3"})
    assert proc.returncode == 1 and "no pset folder for task 3" in proc.stderr

    df = ps.prep_batch(ps.plist("a", [4, 5]), array=True, **kw)
    active, commented = submit_lines(Path("calc/run_cluster.sh"))
    assert len(commented) == 1 and "array_cluster_run0.sh" in commented[0]
    assert len(active) == 1 and "--array=0-1%2 array_cluster_run1.sh" in active[0]
    assert Path("calc/array_cluster_run1.txt").read_text().split() == df["_pset_id"].tolist()[3:]


@needs_bash
@pytest.mark.parametrize("scheduler,option,var,first", [
    ("pbs", "qsub -J 0-2%5 array_hpc_run0.sh", "PBS_ARRAY_INDEX", 0),
    ("sge", "qsub -t 1-3 -tc 5 array_hpc_run0.sh", "SGE_TASK_ID", 1),
])
def test_pbs_and_sge_arrays(tmp_path, scheduler, option, var, first):
    """PBS arrays use -J and PBS_ARRAY_INDEX, SGE arrays -t/-tc and SGE_TASK_ID counted from 1."""
    info = f"subcmd: qsub\nscheduler: {scheduler}\narray: true\narray_limit: 5\n"
    job = "#!/bin/bash\n#PBS -l walltime=1:00:00\n#$ -l h_rt=1:00:00\necho {{a}} > out.txt\n"
    kw = make_templates(tmp_path / "t", machines={"hpc": (info, job)})
    df = ps.prep_batch(ps.plist("a", [1, 2, 3]), **kw)
    active, _ = submit_lines(Path("calc/run_hpc.sh"))
    assert option in active[0]
    script = Path("calc/array_hpc_run0.sh")
    directive = "#PBS" if scheduler == "pbs" else "#$"
    assert [line for line in script.read_text().splitlines() if line.startswith(("#PBS", "#$"))] == [
        line for line in job.splitlines() if line.startswith(directive)]
    assert subprocess.run([BASH, "-n", str(script)], timeout=TIMEOUT).returncode == 0
    proc = run_sh(script, env={var: str(first + 2)})
    assert proc.returncode == 0, proc.stderr
    assert Path("calc", df["_pset_id"].iloc[2], "out.txt").read_text() == "3\n"
    assert not Path("calc", df["_pset_id"].iloc[0], "out.txt").exists()


def test_array_true_without_a_batch_system_is_an_error(tmp_path):
    """array=True with only local machines says how to name the scheduler, before writing."""
    kw = make_templates(tmp_path / "t")
    with pytest.raises(ps.TemplateError, match="scheduler: slurm"):
        ps.prep_batch(ps.plist("a", [1]), array=True, **kw)
    assert not Path("calc").exists()


def test_array_option_strings():
    """Array options per scheduler; an array of one task is submitted as a plain job."""
    from psweep.batch._machines import SCHEDULERS

    assert SCHEDULERS["slurm"].array_option(5000, 50) == "--array=0-4999%50"
    assert SCHEDULERS["pbs"].array_option(3) == "-J 0-2"
    assert SCHEDULERS["sge"].array_option(3, 2) == "-t 1-3 -tc 2"
    assert SCHEDULERS["pbs"].array_option(1) == ""


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


# -- df_gather -------------------------------------------------------------------------


def test_df_gather_reads_outputs_and_lists_missing(tmp_path):
    """df_gather adds the loaded columns and returns the rows whose output is missing."""
    kw = make_templates(tmp_path / "t")
    df = ps.prep_batch(ps.plist("a", [1, 2, 3]), **kw)
    for pset_id in df["_pset_id"].iloc[:2]:
        subprocess.run(["sh", "run.sh"], cwd=Path("calc", pset_id), check=True, timeout=TIMEOUT)

    def load(pset_dir):
        with open(os.path.join(pset_dir, "out.txt")) as fd:
            value = int(fd.read())
        return {"out_": value, "twice_": [value, value]}

    gathered, missing = ps.df_gather(ps.df_read("calc/results.pk"), load)
    assert gathered["out_"].tolist()[:2] == [1, 2] and pd.isna(gathered["out_"].iloc[2])
    assert gathered["twice_"].iloc[1] == [2, 2]
    assert missing["_pset_id"].tolist() == [df["_pset_id"].iloc[2]]
    assert "out_" not in df.columns  # the input frame is not changed
    # From elsewhere, with the calc dir at another path; a None from load is missing too.
    shutil.move("calc", "moved")
    again, missing = ps.df_gather(gathered, lambda d: load(d) if "out.txt" in os.listdir(d) else None,
                                  calc_dir="moved")
    assert again["out_"].tolist()[:2] == [1, 2] and len(missing) == 1


def test_df_gather_errors_name_the_pset_folder(tmp_path):
    """A load that fails for another reason than a missing file is an error naming the folder."""
    df = pd.DataFrame({"_pset_id": ["p1"], "_calc_dir": ["calc"]})
    with pytest.raises(ps.PsweepError, match="calc/p1"):
        ps.df_gather(df, lambda d: 1 / 0)
    with pytest.raises(ps.ParamsError, match="returned a int"):
        ps.df_gather(df, lambda d: 5)
    with pytest.raises(ps.ParamsError, match="_pset_id"):
        ps.df_gather(pd.DataFrame({"a": [1]}), lambda d: {})


def test_batch_errors_pickle_and_derive_from_builtins():
    """TemplateError is a ValueError, MissingDependencyError an ImportError; both survive pickling."""
    for cls, builtin in ((ps.TemplateError, ValueError), (ps.MissingDependencyError, ImportError)):
        err = pickle.loads(pickle.dumps(cls("template 'x': placeholder 'a' not in the pset")))
        assert type(err) is cls and isinstance(err, builtin) and isinstance(err, ps.PsweepError)
        assert "placeholder 'a'" in str(err)


# -- templates: links, encodings, code, names (issue 20, item 9) -------------------


def test_symlinked_folder_in_calc_templates_is_copied_into_each_pset_folder(tmp_path):
    """A linked folder in templates/calc (data kept outside) lands in every pset folder, text filled."""
    data = tmp_path / "shared" / "data"
    (data / "deep").mkdir(parents=True)
    (data / "table.txt").write_text("a = {{a}}\n")
    (data / "deep" / "blob.bin").write_bytes(b"\x00\x01{{a}}")
    kw = make_templates(tmp_path / "t", calc={"run.sh": "echo {{a}}\n"})
    os.symlink(data, tmp_path / "t" / "calc" / "data")
    os.symlink(data / "table.txt", tmp_path / "t" / "calc" / "linked.txt")
    df = ps.prep_batch(ps.plist("a", [1, 2]), **kw)
    for pset_id, a in zip(df["_pset_id"], df["a"]):
        folder = Path("calc", pset_id)
        assert (folder / "data" / "table.txt").read_text() == f"a = {a}\n"
        assert (folder / "linked.txt").read_text() == f"a = {a}\n"
        assert (folder / "data" / "deep" / "blob.bin").read_bytes() == b"\x00\x01{{a}}"
        assert not (folder / "data").is_symlink()


@pytest.mark.parametrize("target", [".", "..", "/"])
def test_symlink_loop_in_calc_templates_is_refused_naming_it(tmp_path, target):
    """A link in templates/calc to a folder that holds it is a TemplateError naming it; nothing written."""
    kw = make_templates(tmp_path / "t")
    (tmp_path / "t" / "calc" / "sub").mkdir()
    os.symlink(target, tmp_path / "t" / "calc" / "sub" / "loop")
    with pytest.raises(ps.TemplateError, match=r"sub/loop.*holds it"):
        ps.prep_batch(ps.plist("a", [1]), **kw)
    assert not Path("calc").exists()


def test_dangling_symlink_in_calc_templates_is_refused_naming_it(tmp_path):
    """A link in templates/calc that points nowhere is a TemplateError naming it, before anything is written."""
    kw = make_templates(tmp_path / "t")
    os.symlink(tmp_path / "gone", tmp_path / "t" / "calc" / "input")
    with pytest.raises(ps.TemplateError, match=r"calc/input.*does not exist"):
        ps.prep_batch(ps.plist("a", [1]), **kw)
    assert not Path("calc").exists()


@pytest.mark.parametrize("mode,text", [("jinja", "T = {{T}} °C, {{name}}\n"), ("dollar", "T = $T °C, $name\n")])
def test_latin1_template_is_filled_and_written_in_latin1(tmp_path, mode, text):
    """A latin-1 text template gets its placeholders filled and is written back in latin-1."""
    kw = make_templates(tmp_path / "t", calc={"input.dat": text.encode("latin-1")})
    df = ps.prep_batch([{"T": 300, "name": "Müller"}], template_mode=mode, **kw)
    written = Path("calc", df["_pset_id"].iloc[0], "input.dat").read_bytes()
    assert written == "T = 300 °C, Müller\n".encode("latin-1")


def test_latin1_template_with_a_value_latin1_cannot_hold_is_an_error(tmp_path):
    """A value latin-1 cannot hold, for a latin-1 template, is a TemplateError naming the file and the fix."""
    kw = make_templates(tmp_path / "t", calc={"input.dat": "cost {{c}} °C\n".encode("latin-1")})
    with pytest.raises(ps.TemplateError, match=r"input\.dat.*latin-1.*'€'.*UTF-8"):
        ps.prep_batch([{"c": "5 €"}], **kw)
    assert not Path("calc").exists()


def test_utf16_template_is_filled_and_keeps_its_encoding(tmp_path):
    """A UTF-16 template (with its byte order mark) is filled and written back as UTF-16."""
    text = "\ufeffn = {{n}}\r\n"
    kw = make_templates(tmp_path / "t", calc={"in.txt": text.encode("utf-16-le")})
    df = ps.prep_batch(ps.plist("n", [7]), **kw)
    written = Path("calc", df["_pset_id"].iloc[0], "in.txt").read_bytes()
    assert written == "\ufeffn = 7\r\n".encode("utf-16-le")


def test_crlf_template_keeps_its_line_ends(tmp_path):
    """A template with Windows line ends (CRLF) is filled keeping them, in jinja and dollar mode."""
    kw = make_templates(tmp_path / "t", calc={"job.bat": b"echo {{a}} $a\r\nexit\r\n"})
    for mode in ("jinja", "dollar"):
        df = ps.prep_batch(ps.plist("a", [5]), template_mode=mode, **kw)
        written = Path("calc", df["_pset_id"].iloc[-1], "job.bat").read_bytes()
        assert written == (b"echo 5 $a\r\nexit\r\n" if mode == "jinja" else b"echo {{a}} 5\r\nexit\r\n")


def test_text_encoding_tells_text_from_binary():
    """UTF-8, UTF-16 with BOM and 8-bit text are text; NULs or control bytes make binary."""
    from psweep.batch._templates import text_encoding

    assert text_encoding(b"a = {{a}}\n") == "utf-8"
    assert text_encoding("é {{a}}".encode("cp1252")) == "latin-1"
    assert text_encoding("€ {{a}}".encode("cp1252")) == "latin-1"
    assert text_encoding("x".encode("utf-16")) in ("utf-16-le", "utf-16-be")
    assert text_encoding(b"\xff\xfe{{a}}\x00\x01\x00") is None  # UTF-16 of a control character
    assert text_encoding(b"{{a}}\x00") is None
    assert text_encoding(b"\xe9{{a}}\x02\x03") is None


def test_same_code_reprepares_psets_after_a_template_changed(tmp_path):
    """skip_dups='same-code' counts an edited calc template or job script as changed code."""
    kw = make_templates(tmp_path / "t", calc={"in.txt": "{{a}}\n"})
    params = ps.plist("a", [1, 2])
    ps.prep_batch(params, **kw)
    assert len(ps.prep_batch(params, skip_dups="same-code", **kw)) == 2
    (tmp_path / "t" / "calc" / "in.txt").write_text("{{a}} v2\n")
    df = ps.prep_batch(params, skip_dups="same-code", **kw)
    assert len(df) == 4
    assert [Path("calc", i, "in.txt").read_text() for i in df["_pset_id"].iloc[2:]] == ["1 v2\n", "2 v2\n"]
    assert len(ps.prep_batch(params, skip_dups="same-code", **kw)) == 4
    (tmp_path / "t" / "machines" / "local" / "jobscript").write_text("sh run.sh # v2\n")
    assert len(ps.prep_batch(params, skip_dups="same-code", **kw)) == 6


def test_machine_folder_with_a_space_is_refused_naming_it(tmp_path):
    """A machine folder named 'my cluster' is a TemplateError naming it and a fix, before anything is written."""
    kw = make_templates(tmp_path / "t", machines={"my cluster": ("subcmd: sbatch\n", "sh run.sh\n")})
    with pytest.raises(ps.TemplateError, match=r"'my cluster'.*Rename the folder, e.g. to 'my_cluster'"):
        ps.prep_batch(ps.plist("a", [1]), array=True, **kw)
    assert not Path("calc").exists()


@pytest.mark.parametrize("name", ["a;b", "it's", "x$y", "tab\there"])
def test_machine_names_shells_would_split_are_refused(tmp_path, name):
    """Machine folder names with shell-special characters are refused."""
    mdir = tmp_path / "machines" / name
    mdir.mkdir(parents=True)
    (mdir / "info.yaml").write_text("subcmd: sh\n")
    (mdir / "jobscript").write_text("true\n")
    with pytest.raises(ps.TemplateError, match="Rename the folder"):
        ps.Machine(mdir)


# -- job arrays over the site limit (issue 20, item 10) -----------------------------------


FAKE_SUBMIT = """#!/bin/sh
# Stands in for {name}: runs the job script at once, each array task in turn.
range=
limit=
while [ $# -gt 1 ]; do
    case $1 in
        --array=*) range=${{1#--array=}} ;;
        -J|-t) range=$2; shift ;;
        -tc) limit=$2; shift ;;
    esac
    shift
done
script=$1
echo "$range $script" >> "{log}"
if [ -z "$range" ]; then
    {dir_var}=$PWD sh "$script"
    exit $?
fi
range=${{range%%%*}}
task=${{range%-*}}
while [ "$task" -le "${{range#*-}}" ]; do
    {task_var}=$task {dir_var}=$PWD sh "$script" || exit 1
    task=$((task + 1))
done
"""

SCHEDULER_VARS = {
    "slurm": ("sbatch", "SLURM_ARRAY_TASK_ID", "SLURM_SUBMIT_DIR"),
    "pbs": ("qsub", "PBS_ARRAY_INDEX", "PBS_O_WORKDIR"),
    "sge": ("qsub", "SGE_TASK_ID", "SGE_O_WORKDIR"),
}


def fake_submitter(tmp_path: Path, scheduler: str) -> dict[str, str]:
    """A fake sbatch/qsub on PATH that runs array tasks at once; returns the environment."""
    name, task_var, dir_var = SCHEDULER_VARS[scheduler]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    text = FAKE_SUBMIT.format(name=name, log=tmp_path / "submitted.log", task_var=task_var, dir_var=dir_var)
    (bin_dir / name).write_text(text)
    os.chmod(bin_dir / name, 0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize("scheduler,first_range", [
    ("slurm", "0-2%2"), ("pbs", "0-2%2"), ("sge", "1-3"),
])
def test_array_over_max_array_size_is_split_and_runs_every_pset_once(tmp_path, scheduler, first_range):
    """7 psets with max_array_size: 3 are 3 array jobs (3, 3, 1 tasks); submitting them runs each pset once."""
    subcmd = SCHEDULER_VARS[scheduler][0]
    info = f"subcmd: {subcmd}\nscheduler: {scheduler}\narray: true\nmax_array_size: 3\narray_limit: 2\n"
    kw = make_templates(tmp_path / "t", machines={"hpc": (info, "#!/bin/sh\necho {{a}} >> out.txt\n")})
    df = ps.prep_batch(ps.plist("a", range(7)), calc_dir="my calc", **kw)
    live, _ = submit_lines(Path("my calc/run_hpc.sh"))
    assert [line.split("#")[1].strip() for line in live] == [
        "run_seq=0 array part 1, 3 psets", "run_seq=0 array part 2, 3 psets", "run_seq=0 array part 3, 1 pset"]
    env = fake_submitter(tmp_path, scheduler)
    proc = run_sh(Path("my calc/run_hpc.sh"), env=env)
    assert proc.returncode == 0, proc.stderr
    for pset_id, a in zip(df["_pset_id"], df["a"]):
        assert Path("my calc", pset_id, "out.txt").read_text() == f"{a}\n"
    submitted = (tmp_path / "submitted.log").read_text().splitlines()
    assert submitted[0] == f"{first_range} array_hpc_run0_part1.sh"
    assert submitted[2] == " array_hpc_run0_part3.sh"  # one task: a plain job
    # a task outside its part is refused, not run in another part's folder
    name, task_var, dir_var = SCHEDULER_VARS[scheduler]
    out_of_part = run_sh(Path("my calc/array_hpc_run0_part1.sh"),
                         env={task_var: "5", dir_var: os.path.abspath("my calc")})
    assert out_of_part.returncode == 1 and "no pset folder for task 5" in out_of_part.stderr
    # the next run comments out all three parts and adds its own array
    ps.prep_batch(ps.plist("a", [7, 8]), calc_dir="my calc", **kw)
    live, commented = submit_lines(Path("my calc/run_hpc.sh"))
    assert len(commented) == 3 and len(live) == 1 and "array_hpc_run1.sh" in live[0]


def test_default_max_array_size_is_1000_so_slurm_takes_every_array(tmp_path):
    """Without max_array_size, 1001 psets are --array=0-999 and a one-task job, as SLURM's default allows."""
    kw = make_templates(tmp_path / "t", calc={"in.txt": "{{a}}"},
                        machines={"cluster": ("subcmd: sbatch\n", "true\n")})
    ps.prep_batch(ps.plist("a", range(1001)), array=True, **kw)
    live, _ = submit_lines(Path("calc/run_cluster.sh"))
    assert len(live) == 2
    assert "sbatch --array=0-999 array_cluster_run0_part1.sh" in live[0]
    assert "(cd \"$here\" && sbatch array_cluster_run0_part2.sh)" in live[1]
    assert len(Path("calc/array_cluster_run0.txt").read_text().split()) == 1001


@pytest.mark.parametrize("value", [0, -5, "many", True, 2.5])
def test_bad_max_array_size_is_a_clear_error(tmp_path, value):
    """max_array_size in info.yaml must be a whole number >= 1; the message names the file and the key."""
    mdir = tmp_path / "machines" / "cluster"
    mdir.mkdir(parents=True)
    (mdir / "jobscript").write_text("true\n")
    (mdir / "info.yaml").write_text(f"subcmd: sbatch\nmax_array_size: {value}\n")
    with pytest.raises(ps.TemplateError, match=r"info\.yaml.*max_array_size"):
        ps.Machine(mdir)


# -- unfilled placeholders are KeyErrors too, as in 0.16 (issue 20, item 24) ------------------


PICKLE_ROUND_TRIP = """
import pickle, sys
exc = pickle.loads(sys.stdin.buffer.read())
print(type(exc).__name__, isinstance(exc, KeyError), str(exc)[:9])
"""


@pytest.mark.parametrize("mode,text", [("dollar", " $foo $abc"), ("jinja", " {{foo}} {{abc}}")])
def test_unfilled_placeholder_is_a_key_error_with_a_plain_message(tmp_path, mode, text):
    """An unfilled placeholder is a TemplateError, a ValueError and a KeyError; str() is unquoted; it pickles."""
    path = tmp_path / "tmpl.txt"
    path.write_text(text)
    with pytest.raises(KeyError) as info:
        ps.FileTemplate(path).fill({"foo": "x"}, mode=mode)
    exc = info.value
    assert isinstance(exc, ps.TemplateError) and isinstance(exc, ValueError)
    assert isinstance(exc, ps.TemplatePlaceholderError)
    assert str(exc).startswith("template ") and "abc" in str(exc)
    if mode == "jinja":
        import jinja2

        assert isinstance(exc, jinja2.exceptions.UndefinedError)
    proc = subprocess.run([sys.executable, "-c", PICKLE_ROUND_TRIP], input=pickle.dumps(exc),
                          capture_output=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    name, is_key_error, head = proc.stdout.decode().split(maxsplit=2)
    assert (name, is_key_error, head.strip()) == (type(exc).__name__, "True", "template")


def test_prep_batch_unfilled_placeholder_is_caught_by_except_key_error(tmp_path):
    """prep_batch's error for an unfilled placeholder (naming the pset) is caught by 0.16's 'except KeyError:'."""
    kw = make_templates(tmp_path / "t", calc={"in.txt": "{{a}} {{b}}\n"})
    try:
        ps.prep_batch(ps.plist("a", [1]), **kw)
    except KeyError as exc:
        assert "pset #0" in str(exc) and "'b'" in str(exc) and not str(exc).startswith('"')
    else:
        raise AssertionError("no KeyError")
