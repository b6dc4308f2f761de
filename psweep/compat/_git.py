"""psweep 0.16's git helpers: commit the study folder before and after a run.

``run(git=True)`` here records the commit and the uncommitted diff instead
of committing for you (see :mod:`psweep.provenance._git`); these helpers keep 0.16
scripts that call them working. They act on the git work tree of the
current folder, as 0.16's did.
"""

from __future__ import annotations

import os
import subprocess

import pandas as pd

from psweep.compat._constants import GIT_ADD_ALL
from psweep.errors import GitError
from psweep.compat._fileio import fullpath
from psweep.compat._shell import system

__all__ = ["git_clean", "in_git_repo", "git_enter", "git_exit"]


def in_git_repo() -> bool:
    """Whether the current folder is inside a git work tree.

    Returns
    -------
    bool
        False also when git is not installed.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.in_git_repo()  # doctests run in a fresh temporary folder
    False
    """
    try:
        done = subprocess.run(["git", "status"], capture_output=True, check=False)
    except FileNotFoundError:
        return False
    return done.returncode == 0


def git_clean() -> bool:
    """Whether the git work tree here has no changes, untracked files included.

    Returns
    -------
    bool

    Raises
    ------
    subprocess.CalledProcessError
        Outside a git work tree.

    Examples
    --------
    >>> import psweep as ps
    >>> _ = ps.system("git init -q && git -c user.name=a -c user.email=a@b commit -q --allow-empty -m x")
    >>> ps.git_clean()
    True
    >>> ps.file_write("new.txt", "x")
    >>> ps.git_clean()
    False
    """
    return system("git status --porcelain").stdout.decode() == ""


def _commit(message: str) -> None:
    system(GIT_ADD_ALL)
    # An argv list, not a shell line: the folder name may hold quotes.
    subprocess.run(["git", "commit", "-q", "-m", message], check=True, capture_output=True)


def git_enter(use_git: bool, always_commit: bool = False) -> None:
    """Before a run: make sure the study folder is a clean git work tree.

    Parameters
    ----------
    use_git
        Do nothing if False.
    always_commit
        Instead of failing, ``git init`` a missing repository and commit
        all local changes.

    Raises
    ------
    GitError
        If there is no repository, or uncommitted changes, and
        `always_commit` is False.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.git_enter(True)
    Traceback (most recent call last):
    ...
    psweep.errors.GitError: git_enter: ... is not inside a git repository; ...
    """
    if not use_git:
        return
    name = os.path.basename(fullpath(os.curdir))
    if not in_git_repo():
        if not always_commit:
            raise GitError(
                f"git_enter: {os.getcwd()!r} is not inside a git repository; "
                f"create one (git init; git add -A; git commit), or pass "
                f"always_commit=True to let psweep do it."
            )
        system("git init -q")
        _commit(f"psweep: {name}: init")
    if not git_clean():
        if not always_commit:
            raise GitError(
                f"git_enter: the git work tree of {os.getcwd()!r} has uncommitted "
                f"changes; commit them first, or pass always_commit=True."
            )
        print("dirty repo, adding all changes")
        _commit(f"psweep: {name}: local changes")


def git_exit(use_git: bool, df: pd.DataFrame) -> None:
    """After a run: commit everything it wrote, naming its ``_run_id``.

    Parameters
    ----------
    use_git
        Do nothing if False.
    df
        The database after the run; its last ``_run_id`` goes into the
        commit message.

    Examples
    --------
    >>> import pandas as pd, psweep as ps
    >>> ps.git_exit(False, pd.DataFrame())  # nothing to do
    """
    if use_git and not git_clean():
        name = os.path.basename(fullpath(os.curdir))
        _commit(f"psweep: {name}: run_id={df['_run_id'].values[-1]}")
