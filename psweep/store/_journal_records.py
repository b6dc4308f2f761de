"""The records of a journal file, and reading them back.

A record is framed as magic (4 bytes), payload length, crc32 of the
payload (both little-endian uint32), payload. Three kinds:

``PSJ1``
    A pickled row dict (all that journals of earlier drivers, ``.jnl``,
    hold; a ``.jnl2`` journal writes one when it has no layout number left).
``PK`` + layout number (uint16)
    A pickled tuple of keys: layout ``n`` of this journal.
``PV`` + layout number
    A pickled tuple of one row's values, in the order of layout ``n``'s keys.

Writing a row's values without its keys halves the work of pickling a row
of a trivial pset. The crc of ``PK``/``PV`` records starts from the layout
number, so a damaged number fails the check like a damaged payload. A
journal writes its keys records again every :data:`KEYS_EVERY` bytes, and
a reader matches values records with any intact copy of their keys, before
or after them: one damaged block costs its own records, as before, unless
it holds every copy of some keys (a journal shorter than ``KEYS_EVERY``),
and then those rows are reported as unreadable, never silently dropped.
"""

from __future__ import annotations

import pickle
import re
import struct
import warnings
import zlib
from typing import Any

from psweep.store._problems import unpickling_problem

__all__ = ["HEADER", "ROW_MAGIC", "KEYS_EVERY", "MAX_LAYOUTS", "keys_magic", "values_magic", "read_journal"]

HEADER = struct.Struct("<4sII")
ROW_MAGIC = b"PSJ1"
_KEYS_TAG = b"PK"
_VALUES_TAG = b"PV"
#: Layout numbers a journal can give (two bytes); beyond, rows are PSJ1 dicts.
MAX_LAYOUTS = 1 << 16
#: Bytes of records after which a journal writes its keys records again.
KEYS_EVERY = 16 << 10

# Where a record may start, when looking for the next one after damage.
_RECORD_START = re.compile(rb"PSJ1|PK..|PV..", re.DOTALL)


def keys_magic(number: int) -> bytes:
    """The magic of the keys record of layout `number`."""
    return _KEYS_TAG + number.to_bytes(2, "little")


def values_magic(number: int) -> bytes:
    """The magic of a values record of layout `number`."""
    return _VALUES_TAG + number.to_bytes(2, "little")


def read_journal(path: str, *, live: bool, unreadable: list[str] | None = None) -> list[dict[str, Any]]:
    """Read all whole records of a journal.

    A damaged record (a run killed in the middle of a write, a bad disk
    block) is skipped with a warning and reading goes on at the next record;
    an incomplete record at the end of a *live* run's journal is a write in
    progress and skipped silently. A whole record that is not a row (not a
    dict, a ``_time_utc`` that is no time, an object of a class this process
    cannot import), values whose keys record is lost, and a journal that
    cannot be opened are skipped with one warning per journal, naming the
    records and the reasons.

    Parameters
    ----------
    path
        The journal file.
    live
        Whether its run is still running.
    unreadable
        If given, receives one line per record (or file) skipped as unreadable.

    Returns
    -------
    list of dict
        The rows, in the order they were written.
    """
    try:
        with open(path, "rb") as fd:
            data = fd.read()
    except FileNotFoundError:
        return []
    except OSError as exc:  # a folder named like a journal, no permission
        problems = [f"the file cannot be read: {exc.strerror or exc}"]
        _warn_unreadable(path, problems, unreadable)
        return []
    # The space a live (or killed) run reserved but did not fill is zeros.
    data = data.rstrip(b"\0")
    reader = _Reader()
    pos = 0
    while pos < len(data):
        end = _record_end(data, pos)
        if end is not None:
            reader.take(data[pos : pos + 4], data[pos + HEADER.size : end], pos)
            pos = end
            continue
        found = _RECORD_START.search(data, pos + 1)
        while found is not None and _record_end(data, found.start()) is None:
            found = _RECORD_START.search(data, found.start() + 1)
        nxt = -1 if found is None else found.start()
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
    rows = reader.rows()
    if reader.problems:
        _warn_unreadable(path, reader.problems, unreadable)
    return rows


class _Reader:
    """Rows from a journal's intact records, in order."""

    def __init__(self) -> None:
        self.layouts: dict[bytes, tuple[str, ...]] = {}
        # Row dicts, or (number, values, offset) waiting for their keys.
        self.found: list[Any] = []
        self.problems: list[str] = []

    def take(self, magic: bytes, payload: bytes, pos: int) -> None:
        try:
            obj = pickle.loads(payload)
        except Exception as exc:
            self.problems.append(f"record at offset {pos}: {unpickling_problem(payload, exc)}")
            return
        tag, number = magic[:2], magic[2:]
        if magic == ROW_MAGIC:
            self._add_row(obj, pos)
        elif tag == _KEYS_TAG and type(obj) is tuple:
            self.layouts.setdefault(number, obj)
        elif tag == _VALUES_TAG and type(obj) is tuple:
            keys = self.layouts.get(number)
            if keys is None:  # its keys may come later (a copy)
                self.found.append((number, obj, pos))
            else:
                self._add_values(keys, obj, pos)
        else:
            self.problems.append(f"record at offset {pos}: a {type(obj).__name__}, not a row")

    def _add_values(self, keys: tuple[str, ...], values: tuple[Any, ...], pos: int) -> None:
        if len(keys) != len(values):
            self.problems.append(f"record at offset {pos}: {len(values)} values for {len(keys)} keys")
        else:
            self._add_row(dict(zip(keys, values)), pos)

    def _add_row(self, row: Any, pos: int) -> None:
        problem = _not_a_row(row)
        if problem is None:
            self.found.append(row)
        else:
            self.problems.append(f"record at offset {pos}: {problem}")

    def rows(self) -> list[dict[str, Any]]:
        """The rows; values whose keys came after them take them now."""
        waiting, self.found = self.found, []
        for item in waiting:
            if type(item) is not tuple:
                self.found.append(item)
                continue
            number, values, pos = item
            keys = self.layouts.get(number)
            if keys is None:
                self.problems.append(f"record at offset {pos}: the keys of its values are lost (a damaged record)")
            else:
                self._add_values(keys, values, pos)
        return self.found


def _warn_unreadable(path: str, problems: list[str], unreadable: list[str] | None) -> None:
    if unreadable is not None:
        unreadable.extend(problems)
    shown = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
    warnings.warn(
        f"psweep: skipped {len(problems)} unreadable record(s) of journal "
        f"{path}: {shown}. The other rows are kept; a finished run's journal "
        f"is moved to .psweep/quarantine/ with its rows.",
        RuntimeWarning,
        stacklevel=3,
    )


def _not_a_row(row: Any) -> str | None:
    """Why `row` (a whole record's object) is no row, or None if it is one."""
    if type(row) is not dict:
        return f"a {type(row).__name__}, not a row dict"
    value = row.get("_time_utc")
    if value is None or type(value) is float or type(value) is int:
        return None
    try:
        import pandas as pd

        pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        return f"_time_utc={value!r:.60} is not a time ({exc})"
    return None


def _record_end(data: bytes, pos: int) -> int | None:
    """End offset of a whole, intact record at `pos`, else None."""
    if len(data) - pos < HEADER.size:
        return None
    magic, length, crc = HEADER.unpack_from(data, pos)
    end = pos + HEADER.size + length
    if end > len(data):
        return None
    if magic == ROW_MAGIC:
        seed = 0
    elif magic[:2] in (_KEYS_TAG, _VALUES_TAG):
        seed = int.from_bytes(magic[2:], "little")
    else:
        return None
    if zlib.crc32(data[pos + HEADER.size : end], seed) != crc:
        return None
    return end
