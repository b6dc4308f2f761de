"""Create the psweep 0.16 reference interpreter the benchmarks compare against.

    python benchmarks/ref_venv.py            # create benchmarks/.venv-ref (once, ~1-3 min)
    python benchmarks/ref_venv.py --force    # delete and create it again

The folder ``benchmarks/.venv-ref`` is ignored by git. It gets the published
psweep 0.16.0 from PyPI, with pandas, numpy and filelock pinned to the versions
of the interpreter running this script (ours), so that a ratio compares the two
psweeps and not two pandas. The benchmark scripts call :func:`ensure` and so
create it on first use; ``PSWEEP_BENCH_REF_PYTHON`` points them at another
interpreter with psweep 0.16 instead.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import shutil
import subprocess
import sys
import venv

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
VENV_DIR = os.path.join(BENCH_DIR, ".venv-ref")
PYTHON = os.path.join(VENV_DIR, "bin", "python")
REF_VERSION = "0.16.0"
# Installed at the versions ours uses, where ours has them.
PINNED = ("pandas", "numpy", "filelock")


def requirements() -> list[str]:
    """pip requirements of the reference venv."""
    reqs = [f"psweep=={REF_VERSION}"]
    for name in PINNED:
        try:
            reqs.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            reqs.append(name)
    return reqs


def _works(python: str) -> bool:
    """Whether `python` imports psweep 0.16 (outside our checkout)."""
    if not os.path.exists(python):
        return False
    check = f"import psweep, sys; sys.exit(psweep.__version__ != {REF_VERSION!r})"
    proc = subprocess.run([python, "-c", check], cwd=os.path.expanduser("~"), capture_output=True, timeout=120)
    return proc.returncode == 0


def create(force: bool = False) -> str:
    """Create (or re-create with `force`) the reference venv; return its python."""
    if force:
        shutil.rmtree(VENV_DIR, ignore_errors=True)
    elif _works(PYTHON):
        return PYTHON
    print(f"creating the psweep {REF_VERSION} reference venv in {VENV_DIR} ...", file=sys.stderr, flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(VENV_DIR)
    cmd = [PYTHON, "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements()]
    print("  " + " ".join(cmd[1:]), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, cwd=VENV_DIR)
    if not _works(PYTHON):
        raise RuntimeError(f"{PYTHON} does not import psweep {REF_VERSION} after installing it")
    return PYTHON


def ensure(python: str) -> str:
    """`python` if it is the default reference interpreter and exists, creating it if not."""
    if os.path.abspath(python) == PYTHON and not os.path.exists(PYTHON):
        create()
    return python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="delete and create the venv again")
    opts = parser.parse_args()
    print(create(force=opts.force))


if __name__ == "__main__":
    main()
