"""Run every script in examples/ as a user would, and check what it leaves behind.

Each example is copied into the test's tmp_path and run there with the
interpreter running the tests, in a real subprocess. Each entry of
``examples/`` (a ``.py`` file or a folder) needs a check in ``CHECKS``;
a new example without one makes ``test_example`` fail.
"""

from __future__ import annotations

import glob
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import psweep as ps

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
TIMEOUT = 120

# What running an example inside examples/ leaves there; not examples.
_OUTPUT_PREFIXES = ("calc", ".", "__pycache__")


def discover_examples() -> list[str]:
    """Names of the examples: top-level .py files and folders of examples/."""
    names = []
    for entry in sorted(EXAMPLES_DIR.iterdir()):
        if entry.name.startswith(_OUTPUT_PREFIXES):
            continue
        if entry.is_dir() or entry.suffix == ".py":
            names.append(entry.name)
    return names


def _ignore_outputs(top: Path) -> Callable[[str, list[str]], list[str]]:
    """Ignore what running an example left in its folder: calc dirs at its top
    only (templates/calc/ of the batch examples is part of them)."""

    def ignore(folder: str, names: list[str]) -> list[str]:
        at_top = Path(folder) == top
        return [n for n in names if n == "__pycache__" or (at_top and n.startswith("calc"))]

    return ignore


def copy_example(name: str, dst: Path) -> None:
    """Copy a script, or the contents of an example folder, into `dst`."""
    src = EXAMPLES_DIR / name
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True, ignore=_ignore_outputs(src))
    else:
        shutil.copy(src, dst / name)


def run_script(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run `args` in `cwd`, assert exit code 0, return stdout."""
    proc = subprocess.run(
        list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
    )
    assert proc.returncode == 0, (
        f"{' '.join(args)} exited with {proc.returncode}\n"
        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    return proc.stdout


def run_python(cwd: Path, script: str) -> str:
    return run_script(cwd, sys.executable, script)


def read_db(path: Path | str = "calc/results.pk"):
    return ps.df_read(str(path))


def assert_no_failures(df) -> None:
    assert not df["_failed"].any(), df.loc[df["_failed"], "_exc_txt"].tolist()


# -- one check per example ----------------------------------------------------


def check_vary_2_params(tmp_path: Path) -> None:
    out = run_python(tmp_path, "vary_2_params.py")
    df = read_db()
    assert len(df) == 8
    assert df["_run_id"].nunique() == 1
    assert sorted(set(zip(df["n"], df["k"]))) == [
        (n, k) for n in (4, 8, 16, 32) for k in (1, 3)
    ]
    assert df["error_"].notna().all()
    assert_no_failures(df)
    assert "error_" in out


def check_vary_2_params_decorator(tmp_path: Path) -> None:
    out = run_python(tmp_path, "vary_2_params_decorator.py")
    assert "calc/ exists after the plain call: False" in out
    df = read_db()
    assert len(df) == 8
    assert_no_failures(df)
    (run_id,) = df["_run_id"].unique()
    recorded = tmp_path / "calc" / "backup_script" / f"{run_id}.py"
    assert recorded.read_text() == (tmp_path / "vary_2_params_decorator.py").read_text()


def check_vary_2_params_repeat(tmp_path: Path) -> None:
    run_python(tmp_path, "vary_2_params_repeat.py")
    df = read_db()
    assert len(df) == 12
    assert_no_failures(df)
    sizes = df.groupby("_run_id").size()
    assert sorted(sizes.tolist()) == [6, 6]
    assert sorted(df["_run_seq"].unique().tolist()) == [0, 1]
    # Both runs cover the same psets, so each hash appears once per run.
    assert (df.groupby("_pset_hash")["_run_id"].nunique() == 2).all()


def check_save_data_on_disk(tmp_path: Path) -> None:
    run_python(tmp_path, "save_data_on_disk.py")
    df = read_db()
    assert len(df) == 4
    assert_no_failures(df)
    assert df["_pset_id"].is_unique
    for pset_id in df["_pset_id"]:
        traj = tmp_path / "calc" / pset_id / "trajectory.txt"
        assert len(traj.read_text().splitlines()) == 1000
    pset_dirs = {
        p.name
        for p in (tmp_path / "calc").iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name != "backup_script"
    }
    assert pset_dirs == set(df["_pset_id"])


def check_multiple_1d_scans_with_backup(tmp_path: Path) -> None:
    run_python(tmp_path, "10input.py")
    first = read_db()
    assert len(first) == 7
    assert glob.glob("calc_*") == [], "the first run has nothing to back up"

    run_python(tmp_path, "20input.py")
    df = read_db()
    # 5 gamma values, one of them (gamma=0.2, omega=1) skipped as a duplicate.
    assert len(df) == 11
    assert_no_failures(df)
    assert df["_pset_hash"].is_unique
    backups = glob.glob("calc_*")
    assert len(backups) == 1
    assert read_db(Path(backups[0]) / "results.pk")["_pset_id"].tolist() == (
        first["_pset_id"].tolist()
    )
    run_ids = df["_run_id"].unique().tolist()
    assert len(run_ids) == 2
    for run_id, script in zip(run_ids, ("10input.py", "20input.py")):
        recorded = tmp_path / "calc" / "backup_script" / f"{run_id}.py"
        assert recorded.read_text() == (tmp_path / script).read_text()


def check_vary_1_param_simulate(tmp_path: Path) -> None:
    run_python(tmp_path, "vary_1_param_simulate.py")
    real = read_db()
    assert real["h"].tolist() == [1.0, 10.0, 100.0]
    assert real["t_fall_"].notna().all()
    assert set(real["_calc_dir"]) == {"calc"}
    sim = read_db("calc.simulate/results.pk")
    assert len(sim) == 6
    new = sim[sim["_run_id"] != real["_run_id"].iloc[0]]
    assert new["h"].tolist() == [200.0, 500.0, 1000.0]
    assert new["t_fall_"].isna().all()
    assert set(new["_calc_dir"]) == {"calc.simulate"}


def check_vary_1_param_study_column(tmp_path: Path) -> None:
    out = run_python(tmp_path, "vary_1_param_study_column.py")
    df = read_db()
    assert df.groupby("study").size().to_dict() == {"coarse": 3, "fine": 7}
    assert df["_run_id"].nunique() == 2
    assert_no_failures(df)
    fine = df[df.study == "fine"]
    assert math.isclose(fine["n"].iloc[-1] * fine["error_"].iloc[-1], 1.0, rel_tol=1e-2)
    assert "rows per study" in out


def check_resume_after_crash(tmp_path: Path) -> None:
    out = run_python(tmp_path, "resume_after_crash.py")
    assert "exit code -9" in out
    assert "ps.runs says: killed, 8 of 14 psets done" in out
    assert [line.split() for line in out.split("\n") if line.startswith(("  killed", "finished"))] == [
        ["killed", "14", "8", "1"], ["finished", "7", "7", "1"]]
    df = read_db()
    assert df["_run_id"].nunique() == 2
    first, second = (df[df["_run_seq"] == seq] for seq in sorted(df["_run_seq"].unique()))
    # the killed run kept what finished before the kill (temperatures < 500)
    assert set(first["temperature"]) == {300, 350, 400, 450}
    # the resumed run did exactly the missing psets plus the failed one
    expected = {(t, p) for t in (500, 550, 600) for p in (1.0, 2.0)} | {(450, 2.0)}
    assert set(zip(second["temperature"], second["pressure"])) == expected
    ok = df[~df["_failed"]]
    assert ok["_pset_hash"].nunique() == 13 and ok["_pset_hash"].is_unique


def check_dask_local(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    out = run_python(tmp_path, "dask_local.py")
    df = read_db()
    assert len(df) == 12
    assert_no_failures(df)
    assert (df["error"] < 0.01).all()
    assert df["_logs"].str.contains("worker").all()
    assert str(os.getpid()) not in " ".join(df["_logs"])
    assert "rows: 12" in out


def check_dask_slurm(tmp_path: Path) -> None:
    # Needs a SLURM cluster: documented, not run. It must at least import
    # cleanly (no cluster is started at import) and define its study.
    code = "import dask_slurm, psweep as ps; assert isinstance(dask_slurm.simulate, ps.Sweep)"
    run_script(tmp_path, sys.executable, "-c", code)
    assert "SLURMCluster(" in (tmp_path / "dask_slurm.py").read_text()


def _batch_env() -> dict[str, str]:
    # The local job scripts run ${PYTHON:-python3}: the interpreter of the tests.
    return {**os.environ, "PYTHON": sys.executable}


def check_batch_templates(tmp_path: Path) -> None:
    run_python(tmp_path, "10input.py")
    first = read_db()
    assert len(first) == 6
    for pset_id in first["_pset_id"]:
        files = sorted(os.listdir(tmp_path / "calc" / pset_id))
        assert files == ["jobscript_cluster", "jobscript_local", "run.py"]
    run_script(tmp_path, "sh", "calc/run_local.sh", env=_batch_env())
    run_python(tmp_path, "15input.py")
    df = read_db()
    assert len(df) == 9 and df["_pset_hash"].is_unique
    assert len(glob.glob("calc_*")) == 1  # backup=True before the second prep
    active = [ln for ln in (tmp_path / "calc/run_local.sh").read_text().splitlines()
              if "run_seq=" in ln and not ln.startswith("#")]
    assert len(active) == 3 and all("run_seq=1" in ln for ln in active)
    new = df[df["_run_seq"] == 1]
    assert not any((tmp_path / "calc" / p / "result.json").exists() for p in new["_pset_id"])
    run_script(tmp_path, "sh", "calc/run_local.sh", env=_batch_env())
    out = run_python(tmp_path, "20eval.py")
    assert "jobs without output: 0" in out
    evaluated = read_db("calc/results_eval.pk")
    assert evaluated["pi_estimate"].notna().all() and len(evaluated) == 9
    big = evaluated[evaluated["n_samples"] == 100_000]["pi_estimate"]
    assert (abs(big - math.pi) < 0.05).all()
    # The same steps as one shell script.
    run_script(tmp_path, "sh", "run_example.sh", env=_batch_env())
    assert len(read_db("calc/results_eval.pk")) == 9


def check_batch_job_array(tmp_path: Path) -> None:
    out = run_python(tmp_path, "10input.py")
    df = read_db()
    assert len(df) == 200
    assert "sbatch --array=0-199%50 array_cluster_run0.sh" in out
    calc = tmp_path / "calc"
    listed = (calc / "array_cluster_run0.txt").read_text().split()
    assert listed == df["_pset_id"].tolist()
    script = calc / "array_cluster_run0.sh"
    assert "#SBATCH --time=00:05:00" in script.read_text()
    if shutil.which("bash"):
        run_script(tmp_path, "bash", "-n", str(script))
    # No SLURM here: run three tasks the way SLURM would, by their index.
    for task in (0, 57, 199):
        env = {**_batch_env(), "SLURM_ARRAY_TASK_ID": str(task), "SLURM_SUBMIT_DIR": str(calc)}
        run_script(tmp_path, "sh", str(script), env=env)
        assert (calc / listed[task] / "result.json").exists()
    out = run_python(tmp_path, "20eval.py")
    assert "tasks without output: 197" in out


def check_changed_code_same_code(tmp_path: Path) -> None:
    out = run_python(tmp_path, "changed_code_same_code.py")
    assert "reused the rows of 4 psets made by other code" in out
    assert "re-ran n = [1, 2, 3, 4] -> area_ = [1, 4, 9, 16]" in out
    df = read_db()
    assert len(df) == 9  # 4 old rows, n=5, the 4 re-run
    assert df["_run_id"].nunique() == 3
    assert_no_failures(df)


def check_notebook(tmp_path: Path) -> None:
    import json

    from helpers import run_notebook

    nb, _ = run_notebook(tmp_path / "study.ipynb", timeout=TIMEOUT)
    df = read_db()
    assert len(df) == 6
    assert_no_failures(df)
    run_id = df["_run_id"].iloc[-1]
    source = (tmp_path / "calc" / "backup_script" / f"{run_id}.py").read_text()
    assert "def damped(t, gamma):" in source
    printed = "".join(out.get("text", "") for out in nb.cells[-1].outputs)
    assert printed.strip() == source.strip()
    info = json.loads((tmp_path / "calc" / "backup_script" / f"{run_id}.json").read_text())
    assert info["argv"] == [str((tmp_path / "study.ipynb").resolve())]
def check_vary_function_param(tmp_path: Path) -> None:
    out = run_python(tmp_path, "vary_function_param.py")
    assert "first run: 6 rows" in out and "after extending: 10 rows, 2 runs" in out
    df = read_db(tmp_path / "calc" / "results.pk")
    assert_no_failures(df)
    assert df.groupby("_run_id", sort=False).size().tolist() == [6, 4]
    assert df["_pset_hash"].is_unique
    sin_3 = df[(df["f_name"] == "sin") & (df["upper"] == 3.0)]["integral_"].tolist()
    assert [round(v, 2) for v in sin_3] == [1.99, 1.99]
    assert sorted(set(df["f_name"])) == ["cos", "exp", "sin"]
    # A third run of the script's second study runs nothing new.
    again = run_python(tmp_path, "vary_function_param.py")
    assert "after extending: 10 rows, 2 runs" in again


def check_repeat_failed(tmp_path: Path) -> None:
    out = run_python(tmp_path, "repeat_failed.py")
    df = read_db()
    first, second = (df[df["_run_seq"] == seq] for seq in (0, 1))
    assert len(first) == 6 and first["_failed"].sum() == 2
    assert set(first.loc[first["_failed"], "x0"]) == {0.0}
    # the second run did exactly the failed psets, now successfully
    assert set(second["_pset_hash"]) == set(first.loc[first["_failed"], "_pset_hash"])
    assert not second["_failed"].any()
    assert second["root_"].round(6).tolist() == [1.414214, 3.0]
    assert "reported failures: 2" in out


def check_capture_logs(tmp_path: Path) -> None:
    out = run_python(tmp_path, "capture_logs.py")
    df = read_db()
    assert len(df) == 2
    assert_no_failures(df)
    for _, row in df.iterrows():
        assert f"external tool: c={row['c']} done" in row["_logs"]
        assert row["_logs"].startswith("step 0:")
        logs = tmp_path / "calc" / row["_pset_id"] / "logs.txt"
        assert logs.read_text() == row["_logs"]
    assert out.count(": True") == 2


def check_look_at_a_study(tmp_path: Path) -> None:
    pytest.importorskip("dash", reason="its report needs the ui extra (pip install 'psweep[ui]')")
    out = run_python(tmp_path, "study.py")
    assert "195 rows, 15 failed" in out
    report = run_script(tmp_path, sys.executable, "-m", "psweep", "report", "calc")
    assert report.strip() == "psweep report: wrote calc/report.html"
    text = (tmp_path / "calc" / "report.html").read_text()
    assert "Euler is unstable" in text and "30 missing" in text and text.count("Plotly.newPlot") >= 4


CHECKS: dict[str, Callable[[Path], None]] = {
    "look_at_a_study": check_look_at_a_study,
    "batch_templates": check_batch_templates,
    "batch_job_array": check_batch_job_array,
    "notebook": check_notebook,
    "changed_code_same_code.py": check_changed_code_same_code,
    "repeat_failed.py": check_repeat_failed,
    "capture_logs.py": check_capture_logs,
    "resume_after_crash.py": check_resume_after_crash,
    "dask_local.py": check_dask_local,
    "dask_slurm.py": check_dask_slurm,
    "vary_2_params.py": check_vary_2_params,
    "vary_2_params_decorator.py": check_vary_2_params_decorator,
    "vary_2_params_repeat.py": check_vary_2_params_repeat,
    "save_data_on_disk.py": check_save_data_on_disk,
    "multiple_1d_scans_with_backup": check_multiple_1d_scans_with_backup,
    "vary_1_param_simulate.py": check_vary_1_param_simulate,
    "vary_1_param_study_column.py": check_vary_1_param_study_column,
    "vary_function_param.py": check_vary_function_param,
}


@pytest.mark.parametrize("name", discover_examples())
def test_example(name, tmp_path):
    """Each example runs in an empty folder, exits 0 and leaves the expected database and files."""
    if name not in CHECKS:
        pytest.fail(f"examples/{name} has no check; add one to CHECKS in {__file__}")
    copy_example(name, tmp_path)
    CHECKS[name](tmp_path)


def test_every_check_has_an_example():
    """The examples in examples/ are exactly the ones CHECKS covers, none missing or stale."""
    assert set(discover_examples()) == set(CHECKS)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_run_all_sh_runs_both_scans(tmp_path):
    """multiple_1d_scans_with_backup/run_all.sh runs 10input.py then 20input.py."""
    copy_example("multiple_1d_scans_with_backup", tmp_path)
    env = {**os.environ, "PYTHON": sys.executable}
    run_script(tmp_path, "bash", "run_all.sh", env=env)
    df = read_db()
    assert len(df) == 11
    assert len(glob.glob("calc_*")) == 1
