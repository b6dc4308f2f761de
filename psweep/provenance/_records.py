"""Run records: ``<calc_dir>/backup_script/<_run_id>.json``, written at a run's start and end.

The one writer and the one reader of these files: run status, duplicate
skipping by code hash and the CLI all read them through here.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import platform
import sys
import threading
import warnings
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from psweep._files import is_locked, write_atomic
from psweep._schema import RUN_RECORDS_DIR, VERSION
from psweep.provenance._notebook import command_line
from psweep.store import age, keep_alive, stop_keeping_alive

__all__ = [
    "RunRecord",
    "records_folder",
    "record_path",
    "read_record",
    "read_records",
    "run_code_hashes",
    "write_provenance",
    "end_provenance",
]


class RunRecord(NamedTuple):
    """A run record as read, whether its run held its lock then, and its age.

    ``age``: seconds since the file last changed, in the file server's
    time; a running run refreshes it every few seconds (its heartbeat), so
    hosts that do not see the lock can tell that it lives.
    """

    info: dict[str, Any]
    locked: bool
    age: float | None = None


def records_folder(calc_dir: str) -> str:
    """The folder of `calc_dir` that holds the run records."""
    return os.path.join(calc_dir, RUN_RECORDS_DIR)


def record_path(calc_dir: str, run_id: str) -> str:
    """The run record of run `run_id`: ``<calc_dir>/backup_script/<run_id>.json``."""
    return os.path.join(records_folder(calc_dir), f"{run_id}.json")


def read_record(path: str) -> dict[str, Any] | None:
    """The run record in `path`; None when it is gone, damaged or not a record."""
    try:
        with open(path, encoding="utf-8") as fd:
            info = json.load(fd)
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def read_records(calc_dir: str, database_basename: str) -> dict[str, RunRecord]:
    """Every run record of `calc_dir` for the database `database_basename`.

    Records that name no database (written by an older psweep) are
    included; files that are not run records are skipped (the rows still
    list their runs).

    Parameters
    ----------
    calc_dir
        The calc dir.
    database_basename
        File name of the database in `calc_dir`.

    Returns
    -------
    dict
        ``{run_id: RunRecord}``, in the order of the file names.
    """
    folder = records_folder(calc_dir)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json") and not n.startswith("."))
    except FileNotFoundError:
        return {}
    records = {}
    for name in names:
        path = os.path.join(folder, name)
        # The lock is probed before the file is read: a run writes its end
        # marker before it releases the lock, so a lock found free here
        # means the end marker, if the run wrote one, is in what is read.
        locked = is_locked(path)
        seconds = age(path)
        info = read_record(path)
        if info is None or info.get("database") not in (None, database_basename):
            continue
        records[str(info.get("_run_id", name.removesuffix(".json")))] = RunRecord(info, locked, seconds)
    return records


def run_code_hashes(calc_dir: str, run_ids: Iterable[str]) -> dict[str, str | None]:
    """The :func:`code_hash` each run recorded in its provenance file.

    Parameters
    ----------
    calc_dir
        The calc dir.
    run_ids
        ``_run_id`` values.

    Returns
    -------
    dict
        ``{run_id: hash}``; None for a run that recorded none (made before
        psweep recorded it, or its ``backup_script/<run_id>.json`` is gone).
    """
    hashes: dict[str, str | None] = {}
    for run_id in run_ids:
        info = read_record(record_path(calc_dir, run_id))
        hashes[run_id] = None if info is None else info.get("code_hash")
    return hashes


@functools.lru_cache(maxsize=None)
def _static_provenance() -> dict[str, Any]:
    """What does not change within one process; looked up once (ms each)."""
    # The modules' own version attributes: importlib.metadata would parse
    # package metadata files, milliseconds on the first run of a process.
    versions = {
        "psweep": VERSION,
        "pandas": pd.__version__,
        "numpy": np.__version__,
    }
    uname = platform.uname()
    return {
        "python": sys.version,
        "packages": versions,
        "host": uname.node,
        # platform.platform() would start a `uname -p` subprocess
        "platform": f"{uname.system}-{uname.release}-{uname.machine}",
    }


def write_provenance(
    calc_dir: str,
    run_id: str,
    git: dict[str, Any] | None,
    func_hash: str | None = None,
    planned: int | None = None,
    database: str | None = None,
) -> str:
    """Write ``<calc_dir>/backup_script/<run_id>.json`` (and ``.diff``).

    Records Python and package versions, host, platform, command line (in
    a Jupyter kernel: the notebook), working folder and the function's
    :func:`code_hash`; with `git`, the commit and dirty flag, and the
    uncommitted diff beside it as ``<run_id>.diff``. Also what
    :func:`psweep.runs` needs to tell a run's state: the planned number of
    psets, the database, the driver's pid and the start time. The file is
    written atomically and stays locked (``flock``) until
    :func:`end_provenance` adds the end marker, so a reader can tell a
    running run from one whose process died; while the run lives its
    modification time is refreshed every few seconds (a heartbeat that
    hosts which do not see the lock go by).

    Parameters
    ----------
    calc_dir
        The calc dir.
    run_id
        The run's ``_run_id``.
    git
        Result of :func:`git_state`, or None.
    func_hash
        :func:`code_hash` of the run's function.
    planned
        Number of psets the run will execute.
    database
        File name of the run's database in `calc_dir`.

    Returns
    -------
    str
        The JSON file written.

    Examples
    --------
    >>> import json
    >>> from psweep.provenance._records import end_provenance, write_provenance
    >>> path = write_provenance("calc", "run-1", None, planned=3, database="results.pk")
    >>> end_provenance(path, "finished", rows=3, failed=0)
    >>> json.load(open(path))["end"]["state"]
    'finished'
    """
    info: dict[str, Any] = {
        "_run_id": run_id,
        **_static_provenance(),
        "argv": command_line(),
        "cwd": os.getcwd(),
        "code_hash": func_hash,
        "pid": os.getpid(),
        "start_utc": _utc_now(),
        "planned": planned,
        "database": database,
    }
    folder = records_folder(calc_dir)
    os.makedirs(folder, exist_ok=True)
    if git is not None:
        info["git"] = {k: v for k, v in git.items() if k != "diff"}
        if git["diff"]:
            with open(os.path.join(folder, f"{run_id}.diff"), "w", encoding="utf-8") as fd:
                fd.write(git["diff"])
    path = record_path(calc_dir, run_id)
    fd = _write_json_atomically(path, info, keep_locked=True)
    assert fd is not None
    keep_alive(fd)  # its heartbeat, for hosts that do not see the lock
    with _LIVE_LOCK:
        _LIVE_FILES[path] = (fd, info)
    return path


# Provenance files of this process's running runs: path -> (locked file
# descriptor, the info written). The lock tells readers that the run lives;
# the OS releases it when the process dies, even by SIGKILL.
_LIVE_FILES: dict[str, tuple[int, dict[str, Any]]] = {}
_LIVE_LOCK = threading.Lock()

# States a run's end marker can hold; see psweep.provenance._status for how they are read.
END_STATES = ("finished", "interrupted", "stopped")


def end_provenance(path: str, state: str, rows: int, failed: int, error: str | None = None) -> None:
    """Add the end marker to a run's provenance file and release its lock.

    One atomic rewrite at the end of the run: no cost per row.

    Parameters
    ----------
    path
        The file :func:`write_provenance` returned.
    state
        ``"finished"`` (every planned pset ran), ``"interrupted"``
        (Ctrl-C) or ``"stopped"`` (an exception ended the run).
    rows, failed
        Rows the run recorded, and how many of them failed.
    error
        For ``"stopped"``: the exception's type and message.

    Examples
    --------
    See :func:`write_provenance`.
    """
    with _LIVE_LOCK:
        fd, info = _LIVE_FILES.pop(path)
    try:
        end = {"state": state, "time_utc": _utc_now(), "rows": rows, "failed": failed}
        if error is not None:
            end["error"] = error
        _write_json_atomically(path, {**info, "end": end}, keep_locked=False)
    except OSError as exc:
        # The rows are safe; only the status display suffers: no exception.
        warnings.warn(
            f"psweep: could not write the end marker to {path}: {exc}. "
            f"'psweep runs' cannot tell how this run ended; its rows are kept.",
            RuntimeWarning,
            stacklevel=2,
        )
    finally:
        stop_keeping_alive(fd)
        os.close(fd)  # after the rename: a reader never sees it unlocked and unmarked


def _utc_now() -> str:
    """Now in UTC as ISO text without zone, like the ``_time_utc`` values."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).isoformat()


def _write_json_atomically(path: str, info: dict[str, Any], keep_locked: bool) -> int | None:
    """Write `info` to `path` atomically; with `keep_locked`, return the
    descriptor that holds the new file's lock (closing it releases it).

    Not synced to disk (``durable=False``): a record holds no result, a
    crash of any process still never tears it, and a power loss that
    empties it leaves a run of unknown state (``read_record`` gives None),
    not lost rows; the two syncs took most of a small run's fixed cost."""
    data = json.dumps(info, indent=1).encode("utf-8")
    return write_atomic(path, data, keep_locked=keep_locked, durable=False).fd
