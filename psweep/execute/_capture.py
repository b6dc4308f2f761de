"""``capture_logs=``: what a pset prints, sent to a file the driver can find.

A worker sends a pset's stdout and stderr (Python's streams and the file
descriptors 1 and 2, so C code and subprocesses too) to a file whose name
follows from the pset alone (:func:`capture_path`):

* ``"file"`` and ``"db+file"``: ``<_calc_dir>/<_pset_id>/logs.txt``, kept;
* ``"db"``: ``<TMPDIR>/psweep-logs-<_run_id>/<_pset_id>.txt``, read back
  into ``_logs`` and removed.

Writes go straight to the file, unbuffered, so when a pset kills its worker
(a segfault, ``os._exit``) what it printed until then is in the file, in
order, and the driver reads it into that pset's failed row
(:func:`read_left_behind`). The driver owns the run's temporary folder
(:class:`LogsFolder`): it is removed when the run ends, whatever ended it,
and a folder left by a driver that was killed is removed by the next run
on the same host that captures logs.
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from psweep._procs import pid_exists
from psweep._schema import LOGS_FILE, LOGS_TMP_PREFIX
from psweep.execute._outputs import output_to

__all__ = ["CAPTURE_MODES", "LOGS_PREFIX", "LogsFolder", "capture_path", "captured", "read_left_behind"]

CAPTURE_MODES = (None, "db", "file", "db+file")
LOGS_PREFIX = LOGS_TMP_PREFIX
# In a run's temporary folder: "<host> <pid>" of the driver that made it.
_OWNER_FILE = "driver"


def _run_folder(run_id: str) -> str:
    return os.path.join(tempfile.gettempdir(), f"{LOGS_PREFIX}{run_id}")


def capture_path(pset: Mapping[str, Any], capture_logs: str) -> str:
    """The file a pset's output goes to.

    Parameters
    ----------
    pset
        The planned pset (its ``_run_id``, ``_pset_id``, ``_calc_dir``).
    capture_logs
        ``"db"``, ``"file"`` or ``"db+file"``.

    Returns
    -------
    str

    Examples
    --------
    >>> from psweep.execute._capture import capture_path
    >>> pset = {"_run_id": "r1", "_pset_id": "p1", "_calc_dir": "calc"}
    >>> capture_path(pset, "file")
    'calc/p1/logs.txt'
    >>> capture_path(pset, "db").endswith("psweep-logs-r1/p1.txt")
    True
    """
    if capture_logs == "db":
        return os.path.join(_run_folder(pset["_run_id"]), f"{pset['_pset_id']}.txt")
    return os.path.join(pset["_calc_dir"], pset["_pset_id"], LOGS_FILE)


def _open_unbuffered(path: str) -> io.TextIOWrapper:
    """A new text file at `path` whose every write reaches the file at once
    (nothing is lost in a buffer when the process dies)."""
    attempts = 3
    while True:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            raw = open(path, "wb", buffering=0)
            break
        except FileNotFoundError:  # a worker on another host just removed the empty run folder
            attempts -= 1
            if not attempts:
                raise
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", write_through=True)


@contextlib.contextmanager
def _output_to(path: str) -> Iterator[None]:
    """Send stdout and stderr to `path`: Python's streams and the file
    descriptors 1 and 2, so that C code and subprocesses are caught too
    (see :mod:`psweep.execute._outputs` for psets running on threads)."""
    with _open_unbuffered(path) as out, output_to(out):
        yield


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fobj:
            return fobj.read()
    except FileNotFoundError:
        return None


def _remove(path: str) -> None:
    """Remove a pset's temporary file, and its run folder once empty (on a
    host other than the driver's, where no owner file keeps it)."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
    with contextlib.suppress(OSError):
        os.rmdir(os.path.dirname(path))


@contextlib.contextmanager
def captured(pset: Mapping[str, Any], capture_logs: str) -> Iterator[list[str]]:
    """On a worker: capture a pset's output as `capture_logs` says.

    Parameters
    ----------
    pset
        The planned pset.
    capture_logs
        ``"db"``, ``"file"`` or ``"db+file"``.

    Yields
    ------
    list of str
        Receives the captured text on exit (``"db"``, ``"db+file"``).

    Notes
    -----
    The file starts empty: a pset run again after its worker died (see
    :func:`~psweep.execute._executors.run_with_executor`) keeps the output of its
    last attempt, the one its row is of.
    """
    logs: list[str] = []
    path = capture_path(pset, capture_logs)
    try:
        with _output_to(path):
            yield logs
    finally:
        if capture_logs != "file":
            logs.append(_read(path) or "")
        if capture_logs == "db":
            _remove(path)


def read_left_behind(pset: Mapping[str, Any], capture_logs: str | None) -> str | None:
    """On the driver: what a pset printed before its worker died or was stopped.

    Reads the pset's capture file (and removes it when it is a temporary
    one): the ``_logs`` of the pset's failed row.

    Parameters
    ----------
    pset
        The planned pset.
    capture_logs
        The run's ``capture_logs``.

    Returns
    -------
    str or None
        None when nothing goes to ``_logs``, or no file was written (the
        pset never started, or ran on another host).
    """
    if capture_logs not in ("db", "db+file"):
        return None
    path = capture_path(pset, capture_logs)
    text = _read(path)
    if capture_logs == "db":
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    return text


class LogsFolder:
    """The driver's side of ``capture_logs="db"``: the run's temporary folder.

    Made when the run starts (with the driver's host and pid in it, so that
    a later run can tell it was left by a killed driver) and removed with
    everything in it when the run ends.

    Parameters
    ----------
    capture_logs
        The run's ``capture_logs``; anything but ``"db"`` makes this a no-op.
    psets
        The run's planned psets (the first names the run).
    """

    def __init__(self, capture_logs: str | None, psets: Sequence[Mapping[str, Any]]) -> None:
        self.path: str | None = None
        if capture_logs != "db" or not len(psets):
            return
        remove_stale_folders()
        self.path = _run_folder(psets[0]["_run_id"])
        os.makedirs(self.path, exist_ok=True)
        with open(os.path.join(self.path, _OWNER_FILE), "w", encoding="utf-8") as fobj:
            fobj.write(f"{platform.node()} {os.getpid()}\n")

    def remove(self) -> None:
        """Remove the folder (files of psets lost or still running too)."""
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None

    def __enter__(self) -> LogsFolder:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()


def remove_stale_folders() -> list[str]:
    """Remove run folders in TMPDIR whose driver (on this host) is gone.

    Returns
    -------
    list of str
        The folders removed.
    """
    removed = []
    tmp = tempfile.gettempdir()
    host = platform.node()
    with contextlib.suppress(OSError):
        for name in os.listdir(tmp):
            if not name.startswith(LOGS_PREFIX):
                continue
            path = os.path.join(tmp, name)
            owner = _read_owner(os.path.join(path, _OWNER_FILE))
            if owner is not None and owner[0] == host and not pid_exists(owner[1]):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


def _read_owner(path: str) -> tuple[str, int] | None:
    try:
        with open(path, encoding="utf-8") as fobj:
            host, pid = fobj.read().rsplit(None, 1)
        return host, int(pid)
    except (OSError, ValueError):
        return None
