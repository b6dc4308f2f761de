"""Backups of a calc dir: a copy named after the last row, taken whole or not at all."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
import uuid

import pandas as pd

from psweep._files import remove_if_unlocked
from psweep._schema import JOURNAL_NEW_SUFFIX, JOURNAL_SUFFIXES

__all__ = ["backup_name", "backup_calc_dir"]

_STAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def backup_name(calc_dir: str, db: pd.DataFrame) -> str:
    """Path of the backup of `calc_dir` holding the state of `db`.

    Parameters
    ----------
    calc_dir
        The calc dir.
    db
        Its database (with a ``_time_utc`` column).

    Returns
    -------
    str
        A sibling of `calc_dir` named after the last ``_time_utc``, e.g.
        ``calc_2026-11-27T19:06:07.845008Z``.
    """
    last = pd.Timestamp(db["_time_utc"].max())
    parent, name = os.path.split(os.path.normpath(calc_dir))
    return os.path.join(parent, f"{name}_{last.strftime(_STAMP_FORMAT)}")


def backup_calc_dir(calc_dir: str, db: pd.DataFrame) -> str | None:
    """Copy `calc_dir` to a sibling named after the last row of `db`.

    Symlinks are copied as links. The copy goes to a temporary name and is
    renamed at the end, so a folder under the final name is always whole.
    When that folder exists already, it holds this very state (same last
    ``_time_utc``), and it is kept rather than copied again.

    Parameters
    ----------
    calc_dir
        The calc dir; call with its database lock held.
    db
        Its database; nothing is copied when it has no rows.

    Returns
    -------
    str or None
        The backup's path, or None if there was nothing to back up.
    """
    if len(db) == 0 or "_time_utc" not in db.columns:
        return None
    dst = backup_name(calc_dir, db)
    if os.path.exists(dst):
        return dst
    parent, name = os.path.split(dst)
    _remove_dead_temp_backups(parent, os.path.basename(os.path.normpath(calc_dir)))
    tmp = os.path.join(parent, f".{name}{_TEMP_MARK}{uuid.uuid4().hex[:8]}")
    # A lock file beside the temporary copy, flock'ed while we copy: the
    # OS frees it when we die (even by SIGKILL), so the next backup knows
    # the copy is litter.
    marker = os.open(tmp + ".lock", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(marker, fcntl.LOCK_EX)
        shutil.copytree(
            calc_dir,
            tmp,
            symlinks=True,
            ignore=shutil.ignore_patterns(*(f"*{suffix}.*{JOURNAL_NEW_SUFFIX}" for suffix in JOURNAL_SUFFIXES)),
        )
        os.rename(tmp, dst)
    except OSError:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        if os.path.isdir(dst):
            # Another driver renamed the same state into place first.
            return dst
        raise
    finally:
        with contextlib.suppress(OSError):
            os.remove(tmp + ".lock")
        os.close(marker)
    return dst


_TEMP_MARK = ".tmp-"
# A temporary backup without a lock file (made by an older psweep) is
# taken for litter once it is this old.
_OLD_TEMP_AGE = 3600.0


def _remove_dead_temp_backups(parent: str, calc_name: str) -> None:
    """Remove temporary copies left in `parent` by backups that were killed."""
    try:
        names = os.listdir(parent or ".")
    except FileNotFoundError:
        return
    for entry in names:
        if not (entry.startswith(f".{calc_name}_") and _TEMP_MARK in entry):
            continue
        path = os.path.join(parent, entry)
        if not entry.endswith(".lock"):
            if not os.path.exists(path + ".lock"):  # an older psweep's, or ours half-removed
                with contextlib.suppress(OSError):
                    if time.time() - os.stat(path).st_mtime > _OLD_TEMP_AGE:
                        shutil.rmtree(path)
            continue
        # Unless a live backup is copying (and holds the lock).
        remove_if_unlocked(path, guarded=path[: -len(".lock")])
