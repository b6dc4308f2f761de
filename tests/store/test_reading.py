"""Tests of psweep/store/_reading.py and _jsoncopy.py: reading without the lock, JSON copies.

Real files and real journals; a reader takes no lock and creates no lock file.
"""

from __future__ import annotations

import os

import pandas as pd

import psweep as ps
from psweep.store._dbfile import write_database
from psweep.store._journal import Journal
from psweep.store._jsoncopy import read_json, write_json
from psweep.store._layout import Layout
from psweep.store._reading import journal_status, new_rows, quarantined, read_db_file, with_pending
from psweep.store._rows import rows_to_frame


def rows(run: int, n: int) -> list[dict]:
    return [{"_pset_id": f"r{run}-{i}", "_pset_seq": i, "x": i} for i in range(n)]


def test_with_pending_has_the_file_and_every_journal_and_writes_nothing(tmp_path):
    """The database plus live and dead journals' new rows, without a lock file or any change."""
    layout = Layout.of(str(tmp_path), "results.pk")
    write_database(layout.db_path, rows_to_frame(rows(1, 2)))
    dead = Journal(layout.journal_path("dead"))
    for row in rows(1, 3):  # two rows already in the file
        dead.append(row)
    dead.close(remove=False)
    live = Journal(layout.journal_path("live"))
    live.append(rows(2, 1)[0])
    before = sorted(os.listdir(tmp_path))
    df = with_pending(layout)
    assert sorted(df["_pset_id"]) == ["r1-0", "r1-1", "r1-2", "r2-0"]
    assert sorted(os.listdir(tmp_path)) == before
    assert not os.path.exists(layout.lock_path)
    status = sorted((os.path.basename(path), is_live, n) for path, is_live, n in journal_status(layout))
    assert status == [("dead.jnl2", False, 3), ("live.jnl2", True, 1)]
    assert quarantined(layout) == []
    live.close(remove=True)


def test_missing_database_reads_empty(tmp_path):
    """No file: read_db_file gives an empty frame, with_pending the journals' rows only."""
    layout = Layout.of(str(tmp_path / "calc"), "results.pk")
    assert read_db_file(layout.db_path).empty
    assert with_pending(layout).empty
    journal = Journal(layout.journal_path("run"))
    journal.append(rows(1, 1)[0])
    assert with_pending(layout)["_pset_id"].tolist() == ["r1-0"]
    journal.close(remove=True)


def test_new_rows_drops_ids_seen_in_the_frame_or_earlier():
    """new_rows keeps the first row of each _pset_id not already in the database."""
    db = pd.DataFrame({"_pset_id": ["a"]})
    got = new_rows(db, [{"_pset_id": "a"}, {"_pset_id": "b", "k": 1}, {"_pset_id": "b", "k": 2}])
    assert got == [{"_pset_id": "b", "k": 1}]
    fresh = [{"_pset_id": "c"}]
    assert new_rows(None, fresh) is fresh


def test_json_copy_has_the_defaults_of_df_to_json_and_leaves_no_temp_file(tmp_path):
    """write_json writes exactly df_to_json's text (same defaults), atomically; read_json reads it back."""
    times = pd.to_datetime(["2024-01-01 00:00:00.123456789", None])
    df = pd.DataFrame({"a": [1, 2], "t": times, "y": [1 / 3, 2.0]})
    path = tmp_path / "out" / "db.json"
    write_json(path, df)
    assert path.read_text() == ps.df_to_json(df)
    assert os.listdir(path.parent) == ["db.json"]
    back = read_json(path)
    assert back["a"].tolist() == [1, 2] and back["y"].tolist() == [0.333333333333333, 2.0]
    write_json(path, df, orient="split")
    assert read_json(path, orient="split")["a"].tolist() == [1, 2]
