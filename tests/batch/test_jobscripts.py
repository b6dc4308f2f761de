"""Job arrays of prep_batch, run by real shells and fake submitters."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import psweep as ps
from batch_trees import BASH, SLURM_JOB, TIMEOUT, make_templates, needs_bash, run_sh, submit_lines


# -- job arrays --------------------------------------------------------------------

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
