"""The state of the git work tree a study runs in (``run(git=True)``)."""

from __future__ import annotations

import os
import subprocess
from typing import Any

from psweep.errors import PsweepError

__all__ = ["git_state"]


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def git_state() -> dict[str, Any]:
    """Commit, dirty flag and uncommitted diff of the git work tree here.

    Returns
    -------
    dict
        ``commit``, ``dirty``, ``diff`` (text of ``git diff HEAD``) and
        ``toplevel``.

    Raises
    ------
    PsweepError
        If the current folder is not inside a git work tree, or git is not
        installed.
    """
    try:
        toplevel = _git("rev-parse", "--show-toplevel").strip()
    except FileNotFoundError as exc:
        raise PsweepError(
            "git=True needs the git program, which was not found. Install "
            "git, or run without git=True."
        ) from exc
    except subprocess.CalledProcessError as exc:
        raise PsweepError(
            f"git=True: {os.getcwd()!r} is not inside a git work tree "
            f"({exc.stderr.strip()}). Run the study from a git repository "
            f"(git init; git add; git commit), or drop git=True."
        ) from exc
    try:
        commit = _git("rev-parse", "HEAD").strip()
    except subprocess.CalledProcessError as exc:
        raise PsweepError(
            f"git=True: the repository {toplevel!r} has no commit yet. "
            f"Commit your study code first."
        ) from exc
    status = _git("status", "--porcelain")
    return {
        "toplevel": toplevel,
        "commit": commit,
        "dirty": bool(status.strip()),
        "diff": _git("diff", "HEAD"),
    }
