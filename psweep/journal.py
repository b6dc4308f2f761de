"""Journals: the append-only files in which a run records its rows.

A run appends each finished row to its own journal with one ``write`` (O(1)
whatever the database size), so a SIGKILL loses at most the pset in flight.
Each record is framed (magic, length, crc32), so a record torn by a crash is
detected and skipped, and reading goes on at the next one. While its run
lives, a journal's ``.live`` file is locked; a journal whose lock is free
belongs to a finished or dead run and may be folded by anyone.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import threading
import warnings
import zlib
from typing import Any

import filelock

__all__ = ["Journal", "read_journal", "journal_is_live"]

# A journal record: magic, payload length, crc32 of the payload, payload
# (a pickled row dict). The magic lets a reader find the next record after a
# half-written one.
_MAGIC = b"PSJ1"
_HEADER = struct.Struct("<4sII")

# Journals owned by live runs of this process. flock() conflicts between two
# file descriptors of one process too, so probing our own journal's liveness
# lock would wrongly call it live-elsewhere (harmless) or, worse, a stale
# path could be mistaken; we never probe these.
_OWN_JOURNALS: set[str] = set()
_OWN_LOCK = threading.Lock()

class Journal:
    """Append-only file of one run's finished rows.

    Parameters
    ----------
    path
        The journal file; created, and its ``.live`` lock taken, on open.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._live = filelock.FileLock(path + ".live", timeout=0)
        self._live.acquire()
        with _OWN_LOCK:
            _OWN_JOURNALS.add(os.path.abspath(path))
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._size = os.fstat(self._fd).st_size
        self.n_records = 0

    def append(self, row: dict[str, Any]) -> None:
        """Write one row; it survives a SIGKILL of this process once this returns.

        Parameters
        ----------
        row
            The row dict.

        Raises
        ------
        OSError
            If the write fails (e.g. disk full). The journal is cut back to
            its last whole record first, so it stays readable.
        """
        payload = pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)
        record = _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload)) + payload
        try:
            written = os.write(self._fd, record)
            if written != len(record):
                raise OSError(f"short write to journal {self.path}")
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise
        self._size += written
        self.n_records += 1

    def truncate(self) -> None:
        """Drop all records, after they were folded into the database."""
        os.ftruncate(self._fd, 0)
        self._size = 0
        self.n_records = 0

    def close(self, remove: bool) -> None:
        """Close the journal, release its liveness lock, optionally delete it.

        Parameters
        ----------
        remove
            Delete the journal file (its rows are folded).
        """
        os.close(self._fd)
        if remove:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path + ".live")
        self._live.release()
        with _OWN_LOCK:
            _OWN_JOURNALS.discard(os.path.abspath(self.path))


def read_journal(path: str, *, live: bool) -> list[dict[str, Any]]:
    """Read all whole records of a journal.

    A damaged record (a run killed in the middle of a write, a bad disk
    block) is skipped with a warning and reading goes on at the next record;
    an incomplete record at the end of a *live* run's journal is a write in
    progress and skipped silently.

    Parameters
    ----------
    path
        The journal file.
    live
        Whether its run is still running.

    Returns
    -------
    list of dict
        The rows.
    """
    try:
        with open(path, "rb") as fd:
            data = fd.read()
    except FileNotFoundError:
        return []
    rows = []
    pos = 0
    while pos < len(data):
        end = _record_end(data, pos)
        if end is not None:
            rows.append(pickle.loads(data[pos + _HEADER.size : end]))
            pos = end
            continue
        nxt = data.find(_MAGIC, pos + 1)
        if nxt == -1 and live:
            break
        stop = len(data) if nxt == -1 else nxt
        warnings.warn(
            f"psweep: skipped {stop - pos} bytes of a damaged record at "
            f"offset {pos} of journal {path} (a run killed while writing "
            f"it); the records after it are kept.",
            RuntimeWarning,
            stacklevel=2,
        )
        if nxt == -1:
            break
        pos = nxt
    return rows


def _record_end(data: bytes, pos: int) -> int | None:
    """End offset of a whole, intact record at `pos`, else None."""
    if len(data) - pos < _HEADER.size:
        return None
    magic, length, crc = _HEADER.unpack_from(data, pos)
    end = pos + _HEADER.size + length
    if magic != _MAGIC or end > len(data):
        return None
    if zlib.crc32(data[pos + _HEADER.size : end]) != crc:
        return None
    return end


def journal_is_live(path: str) -> bool:
    """Whether the run owning the journal at `path` is still running.

    Parameters
    ----------
    path
        A journal file.

    Returns
    -------
    bool
    """
    if owned_by_this_process(path):
        return True
    probe = filelock.FileLock(path + ".live", timeout=0)
    try:
        probe.acquire()
    except filelock.Timeout:
        return True
    probe.release()
    return False


def owned_by_this_process(path: str) -> bool:
    """Whether a live run of this process writes the journal at `path`.

    Parameters
    ----------
    path
        A journal file.

    Returns
    -------
    bool
    """
    return os.path.abspath(path) in _OWN_JOURNALS
