"""What a run tells its user (issue 20, items 17, 18, 21): missing extras, Ctrl-C at any moment,
a function that returns nothing, a study run again."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import psweep as ps
import workers

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter in the current folder."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout
    )


# -- item 17: progress=True without tqdm ----------------------------------------------------


def test_progress_true_without_tqdm_is_a_missing_dependency_error_with_the_install_command():
    """progress=True where tqdm cannot be imported: MissingDependencyError (an ImportError), before any work."""
    proc = run_python(
        """
        import sys
        sys.modules["tqdm"] = None  # tqdm is not importable
        import psweep as ps
        from psweep.errors import MissingDependencyError
        try:
            ps.run(lambda pset: {"y": 1}, ps.plist("x", [1]), progress=True)
        except ImportError as exc:
            print(type(exc).__name__, isinstance(exc, MissingDependencyError))
            print(exc)
        import os
        print("calc exists:", os.path.exists("calc"))
        """
    )
    assert proc.returncode == 0, proc.stderr
    first, message, created = proc.stdout.strip().splitlines()
    assert first == "MissingDependencyError True"
    assert "progress=True" in message and "'tqdm'" in message
    assert "pip install tqdm" in message
    assert created == "calc exists: False"


def test_progress_default_without_tqdm_runs_without_a_bar():
    """progress left at its default where tqdm cannot be imported: the run goes on, no error."""
    proc = run_python(
        """
        import sys
        sys.modules["tqdm"] = None
        import psweep as ps
        print(len(ps.run(lambda pset: {"y": 1}, ps.plist("x", [1, 2]))))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "2"
