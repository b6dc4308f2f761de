"""Tests of psweep/store/_journal_records.py: a journal writes a row's values under keys written once.

Records are framed (magic, length, crc32); ``PK<n>`` holds layout n's keys, ``PV<n>`` one
row's values in that order, ``PSJ1`` a whole row dict (journals of earlier drivers, and rows
beyond the layout numbers). Real files; damage is done to the bytes on disk.
"""

from __future__ import annotations

import os
import pickle
import struct
import warnings
import zlib

import pytest

import psweep.store._journal as journal_module
from psweep.store import Journal
from psweep.store._layout import Layout
from psweep.store._journal_records import KEYS_EVERY, read_journal

HEADER = struct.Struct("<4sII")


def _records(path: str) -> list[tuple[bytes, int]]:
    """(magic, offset) of each record of a closed journal."""
    with open(path, "rb") as fd:
        data = fd.read()
    found, pos = [], 0
    while pos < len(data):
        magic, length, _ = HEADER.unpack_from(data, pos)
        found.append((magic, pos))
        pos += HEADER.size + length
    return found


def _damage(path: str, offset: int) -> None:
    """Flip one byte of the record payload starting at `offset` (its header is intact)."""
    with open(path, "r+b") as fd:
        fd.seek(offset + HEADER.size + 2)
        byte = fd.read(1)
        fd.seek(offset + HEADER.size + 2)
        fd.write(bytes([byte[0] ^ 0xFF]))


def _written(path: str, rows: list[dict]) -> Journal:
    journal = Journal(path)
    for row in rows:
        journal.append(row)
    journal.close(remove=False)
    return journal


def test_rows_of_several_key_sets_come_back_whole_in_their_key_order(tmp_path):
    """Rows with different keys, or the same keys in another order, are read back as written."""
    rows = []
    for i in range(30):
        rows.append({"_pset_id": f"a{i}", "x": i})
        rows.append({"x": -i, "_pset_id": f"b{i}"})  # the same keys, another order
        rows.append({"_pset_id": f"c{i}", "y": [i], "z": None})
    path = _written(str(tmp_path / "run.jnl2"), rows).path
    back = read_journal(path, live=False)
    assert back == rows
    assert [list(row) for row in back] == [list(row) for row in rows]
    magics = [magic[:2] for magic, _ in _records(path)]
    assert magics.count(b"PK") == 3 and magics.count(b"PV") == 90


def test_keys_are_written_again_every_keys_every_bytes_and_after_a_truncate(tmp_path):
    """A long journal holds several copies of its keys; after a truncate the next row writes them anew."""
    rows = [{"_pset_id": f"p{i}", "text": "t" * 200} for i in range(4 * KEYS_EVERY // 200)]
    journal = Journal(str(tmp_path / "run.jnl2"))
    for row in rows:
        journal.append(row)
    journal.truncate()
    journal.append(rows[0])  # the same keys as before the truncate
    journal.close(remove=False)
    assert read_journal(journal.path, live=False) == [rows[0]]
    _written(str(tmp_path / "long.jnl2"), rows)
    magics = [magic for magic, _ in _records(str(tmp_path / "long.jnl2"))]
    assert magics.count(b"PK\0\0") >= 3
    assert read_journal(str(tmp_path / "long.jnl2"), live=False) == rows


def test_values_find_a_later_copy_of_their_damaged_keys(tmp_path):
    """With its first keys record damaged, every row of a long journal is read through a later copy."""
    rows = [{"_pset_id": f"p{i}", "text": "t" * 200} for i in range(3 * KEYS_EVERY // 200)]
    path = _written(str(tmp_path / "run.jnl2"), rows).path
    first_keys = _records(path)[0]
    assert first_keys[0] == b"PK\0\0"
    _damage(path, first_keys[1])
    with pytest.warns(RuntimeWarning, match="damaged record at offset 0") as caught:
        back = read_journal(path, live=False)
    assert back == rows
    assert not [w for w in caught if "unreadable" in str(w.message)]


def test_values_whose_every_keys_copy_is_damaged_are_reported_not_dropped(tmp_path):
    """A short journal whose only keys record is damaged reports each row as unreadable (quarantine material)."""
    rows = [{"_pset_id": f"p{i}", "x": i} for i in range(3)]
    path = _written(str(tmp_path / "run.jnl2"), rows).path
    _damage(path, 0)
    unreadable: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert read_journal(path, live=False, unreadable=unreadable) == []
    assert len(unreadable) == 3 and all("keys of its values are lost" in line for line in unreadable)
    assert any("skipped 3 unreadable record(s)" in str(w.message) for w in caught)


def test_a_journal_out_of_layout_numbers_writes_whole_row_dicts(tmp_path, monkeypatch):
    """Key sets beyond the layout numbers a journal has are written as row dicts, read back the same."""
    monkeypatch.setattr(journal_module, "MAX_LAYOUTS", 2)
    rows = [{f"k{i % 3}": i, "_pset_id": f"p{i}"} for i in range(9)]
    path = _written(str(tmp_path / "run.jnl2"), rows).path
    assert read_journal(path, live=False) == rows
    magics = [magic[:2] for magic, _ in _records(path)]
    assert magics.count(b"PK") == 2 and magics.count(b"PS") == 3


def test_journal_of_an_earlier_driver_is_listed_and_read(tmp_path):
    """A .jnl journal of row-dict records, as drivers before .jnl2 wrote them, is found and read."""
    layout = Layout.of(str(tmp_path), "results.pk")
    os.makedirs(layout.journal_dir)
    rows = [{"_pset_id": f"p{i}", "x": i, "_time_utc": 1.7e9 + i} for i in range(3)]
    old = os.path.join(layout.journal_dir, "old-run.jnl")
    with open(old, "wb") as fd:
        for row in rows:
            payload = pickle.dumps(row, protocol=4)
            fd.write(HEADER.pack(b"PSJ1", len(payload), zlib.crc32(payload)) + payload)
    new = _written(layout.journal_path("new-run"), rows[:1]).path
    assert new.endswith("new-run.jnl2")
    assert layout.journal_paths() == sorted([old, new])
    assert read_journal(old, live=False) == rows
