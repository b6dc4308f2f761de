"""Template trees and run scripts for the batch tests: written and run for real."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

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


SLURM_JOB = "#!/bin/bash\n#SBATCH --time=00:05:00\n#SBATCH --mem=1G\n\necho task {{a}} > out.txt\n"
