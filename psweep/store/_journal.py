"""Journals: the append-only files in which a run records its rows.

A run appends each finished row to its own journal (O(1) whatever the
database size), so a SIGKILL loses at most the pset in flight. The journal
reserves its disk space ahead (``posix_fallocate``) and the rows are copied
into a shared memory map of that space: the bytes are in the kernel's page
cache as soon as the copy is done, exactly as after a ``write``, so a killed
process loses nothing more, and no system call is made per row. Where space
cannot be reserved or mapped (a full disk, a file-size limit, a file system
without these), the journal drops its zero tail and writes each record with
``pwrite`` instead. Readers take the zero tail of a journal for its end.
Each record is framed (magic, length, crc32), so a record torn by a crash is
detected and skipped, and reading goes on at the next one; a row is written
as its values under keys written once (:mod:`psweep.store._journal_records`). While its run
lives, the journal file is locked (``flock``, which the OS releases when the
process dies, even by SIGKILL), and its sign of life ``<journal>.alive``
(host, pid; :mod:`psweep.store._liveness`) is refreshed every few seconds
for hosts that do not see the lock. A journal whose lock is free and whose
sign is gone or stale belongs to a dead run and may be folded by anyone.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import mmap
import os
import pickle
import threading
import zlib
from typing import Any

from psweep.store._liveness import ALIVE_SUFFIX, end_sign, sign_may_live, write_sign
from psweep.store._pickler import PortablePickler
from psweep.store._journal_records import (
    HEADER,
    KEYS_EVERY,
    MAX_LAYOUTS,
    ROW_MAGIC,
    keys_magic,
    read_journal,
    values_magic,
)
from psweep._files import is_locked
from psweep._schema import JOURNAL_NEW_SUFFIX


__all__ = [
    "Journal",
    "read_journal",
    "journal_is_live",
    "is_locked",
    "NEW_SUFFIX",
]

# Disk space a journal reserves first, and at most at a time later (it
# doubles in between). A pickled record ends in b"." (pickle's STOP), never
# in a zero byte, so a reserved tail of zeros is never part of a record.
_FIRST_ROOM = 256 << 10
_MAX_ROOM = 64 << 20

_HEADER_SIZE = HEADER.size
_pack_into = HEADER.pack_into
_crc32 = zlib.crc32
_join = b"".join


class _Sink:
    """A file for a pickler that hands each write to `write`."""

    __slots__ = ("write",)

    def __init__(self, write: Any) -> None:
        self.write = write

# Suffix of a journal being created (locked, then renamed to its .jnl name).
NEW_SUFFIX = JOURNAL_NEW_SUFFIX

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
        The journal file; created, already locked, on open.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # Lock the file before it appears under its name: a reader seeing
        # an unlocked journal takes it for a dead run's and may fold and
        # remove it. The temporary name does not end in .jnl, so readers
        # ignore it. Journal names are run ids (random uuids); the check
        # guards against reopening one, which would replace its rows.
        if os.path.lexists(path):
            raise FileExistsError(f"journal {path} exists already; a journal is written by one run only")
        # The sign of life comes first, so that no host sees the journal
        # without it. Where it cannot be written, the lock alone tells.
        self._alive_fd: int | None = None
        with contextlib.suppress(OSError):
            self._alive_fd = write_sign(path + ALIVE_SUFFIX)
        tmp = f"{path}.{os.getpid()}{NEW_SUFFIX}"
        try:
            self._fd = os.open(tmp, os.O_RDWR | os.O_CREAT, 0o644)
        except BaseException:
            self._drop_sign()
            raise
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with _OWN_LOCK:
                _OWN_JOURNALS.add(os.path.abspath(path))
            os.rename(tmp, path)  # no hard links needed on the file system
        except BaseException:
            os.close(self._fd)
            with contextlib.suppress(OSError):
                os.remove(tmp)
            with _OWN_LOCK:
                _OWN_JOURNALS.discard(os.path.abspath(path))
            self._drop_sign()
            raise
        self._size = os.fstat(self._fd).st_size
        # The memory map of the reserved space [0, _room); None before the
        # first row, after a truncate, and for good once space could not be
        # reserved (_room is -1 then: every record goes through pwrite).
        self._map: mmap.mmap | None = None
        self._room = 0
        # Layout numbers of the key tuples seen, and the layouts whose keys
        # record was written since the last KEYS_EVERY bytes (or truncate).
        self._numbers: dict[tuple[str, ...], int] = {}
        self._written: dict[tuple[str, ...], tuple[bytes, int]] = {}
        self._keys_due = 0
        # The last row's keys and layout, while their keys record counts
        # (none after a truncate).
        self._last_keys: tuple[str, ...] | None = None
        self._last_layout = (b"", 0)
        self._new_pickler()

    def _new_pickler(self) -> None:
        # One reused pickler without memo ("fast" mode) pickles a row ~10%
        # faster than a new one per row; it refuses cyclic objects
        # (ValueError), which then go through a pickler with memo. Records
        # are portable: a journal left by a killed run is folded by whoever
        # reads the calc dir next, maybe under other pandas/numpy versions.
        # It writes to a list (a record is one write, or a few beyond 64 KB):
        # cheaper per row than rewinding and reading a BytesIO.
        self._chunks: list[bytes] = []
        self._pickler = PortablePickler(_Sink(self._chunks.append), protocol=pickle.HIGHEST_PROTOCOL)
        self._pickler.fast = True

    def _dumps_slowly(self, obj: Any, exc: BaseException) -> bytes:
        """`obj` pickled after the reused pickler failed on it with `exc`."""
        self._new_pickler()  # its state after a failed dump is undefined
        if not isinstance(exc, Exception):  # e.g. KeyboardInterrupt
            raise exc
        buffer = io.BytesIO()
        PortablePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
        return buffer.getvalue()

    def append(self, row: dict[str, Any]) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        """Write one row; it survives a SIGKILL of this process once this returns.

        Parameters
        ----------
        row
            The row dict (an object that is no mapping is written as it is,
            and readers report it as no row).

        Returns
        -------
        keys, values : tuple
            The row's keys and values as written (a :class:`RowBuffer`
            takes them as they are).

        Raises
        ------
        OSError
            If the write fails (e.g. disk full). The journal is cut back to
            its last whole record first, so it stays readable.
        """
        keys = tuple(row)
        try:
            values = tuple(row.values())
        except AttributeError:  # no mapping: as it is (readers report it as no row)
            self._write(ROW_MAGIC, 0, self._pickled(row))
            return keys, ()
        if keys == self._last_keys and self._size < self._keys_due:
            # The usual case, the previous row's keys: their layout without
            # hashing the tuple, and their tuple (a row buffer that gets the
            # same tuple again compares it by identity).
            keys, layout = self._last_keys, self._last_layout
        else:
            if self._size >= self._keys_due:  # every KEYS_EVERY bytes, keys again
                self._written.clear()
                self._keys_due = self._size + KEYS_EVERY
            layout = self._written.get(keys)
            if layout is None:
                layout = self._write_keys(keys)
                if layout is None:  # no layout number left: the row as a dict
                    self._write(ROW_MAGIC, 0, self._pickled(row))
                    return keys, values
            self._last_keys, self._last_layout = keys, layout
        # _pickled and _write inlined: rows of trivial psets add up.
        chunks = self._chunks
        try:
            self._pickler.dump(values)
            payload = _join(chunks)  # one chunk: itself, no copy
        except BaseException as exc:
            payload = self._dumps_slowly(values, exc)
        chunks.clear()
        magic, seed = layout
        size = len(payload)
        start = self._size
        end = start + _HEADER_SIZE + size
        if end <= self._room:  # the usual case: a copy into reserved space
            _pack_into(self._map, start, magic, size, _crc32(payload, seed))
            self._map[start + _HEADER_SIZE : end] = payload  # type: ignore[index]
            self._size = end
        else:
            self._append_beyond_room(HEADER.pack(magic, size, _crc32(payload, seed)) + payload)
        return keys, values

    def _write_keys(self, keys: tuple[str, ...]) -> tuple[bytes, int] | None:
        """Write the keys record of `keys`; their (values magic, crc seed), or
        None if the journal has no layout number left."""
        number = self._numbers.get(keys)
        if number is None:
            if len(self._numbers) >= MAX_LAYOUTS:
                return None
            number = self._numbers[keys] = len(self._numbers)
        self._write(keys_magic(number), number, self._pickled(keys))
        layout = self._written[keys] = (values_magic(number), number)
        return layout

    def _pickled(self, obj: Any) -> bytes:
        chunks = self._chunks
        try:
            self._pickler.dump(obj)
            return _join(chunks)
        except BaseException as exc:
            return self._dumps_slowly(obj, exc)
        finally:
            chunks.clear()

    def _write(self, magic: bytes, seed: int, payload: bytes) -> None:
        record = HEADER.pack(magic, len(payload), _crc32(payload, seed)) + payload
        start = self._size
        end = start + len(record)
        if end <= self._room:
            self._map[start:end] = record  # type: ignore[index]
            self._size = end
        else:
            self._append_beyond_room(record)

    def _append_beyond_room(self, record: bytes) -> None:
        """Append `record`, which does not fit the reserved space."""
        end = self._size + len(record)
        if self._room >= 0:
            try:
                self._reserve(end)
            except OSError:  # full disk, size limit, no fallocate or mmap here
                self._room = -1  # pwrite from now on
                self._unmap(self._size)
            else:
                self._map[self._size : end] = record  # type: ignore[index]
                self._size = end
                return
        try:
            written = os.pwrite(self._fd, record, self._size)
            if written != len(record):
                raise OSError(f"short write to journal {self.path}")
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise
        self._size = end

    def _reserve(self, end: int) -> None:
        """Reserve disk space and map it, for records up to offset `end`."""
        step = min(max(self._room, _FIRST_ROOM), _MAX_ROOM)
        room = -(-(end + step) // mmap.PAGESIZE) * mmap.PAGESIZE
        # Reserved blocks: a full disk is an OSError here, never a SIGBUS
        # when a mapped page is written back.
        os.posix_fallocate(self._fd, 0, room)
        mapped = mmap.mmap(self._fd, room)
        if self._map is not None:
            self._map.close()
        self._map, self._room = mapped, room

    def _unmap(self, size: int) -> None:
        """Close the map; the file keeps its first `size` bytes (no zero tail).
        A journal that writes with pwrite (``_room`` -1) keeps doing so."""
        if self._map is not None:
            self._map.close()
            self._map = None
        self._room = min(self._room, 0)
        os.ftruncate(self._fd, size)

    def truncate(self) -> None:
        """Drop all records, after they were folded into the database."""
        self._unmap(0)
        self._size = 0
        self._written.clear()  # their keys records are gone too
        self._last_keys = None
        self._keys_due = KEYS_EVERY

    def close(self, remove: bool) -> None:
        """Close the journal, which releases its lock; optionally delete it.

        Parameters
        ----------
        remove
            Delete the journal file (its rows are folded).
        """
        if remove:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)
        with contextlib.suppress(OSError):  # a journal kept ends at its last record
            self._unmap(self._size)
        os.close(self._fd)  # releases the lock
        with _OWN_LOCK:
            _OWN_JOURNALS.discard(os.path.abspath(self.path))
        self._drop_sign()

    def _drop_sign(self) -> None:
        """Stop the heartbeat and remove the sign of life (the run ends)."""
        fd, self._alive_fd = self._alive_fd, None
        end_sign(fd, self.path + ALIVE_SUFFIX)


def journal_is_live(path: str) -> bool:
    """Whether the run owning the journal at `path` may still be running.

    Live while its lock is held (seen where locks are shared), or while its
    sign of life ``<path>.alive`` is younger than the liveness timeout (on
    the journal's own host: and its pid exists). Such a journal is never
    folded and removed by another process.

    Parameters
    ----------
    path
        A journal file.

    Returns
    -------
    bool
    """
    if owned_by_this_process(path) or is_locked(path):
        return True
    return sign_may_live(path + ALIVE_SUFFIX)


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
