"""Reading a database without changing it: the file, and the rows still in journals.

Readers take no lock. They read the journals before the database file, so a
fold landing in between moves rows from the journals into a file still to
be read, and none goes missing: reads never go backwards.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from psweep.errors import DatabaseNotFoundError
from psweep.store._dbfile import Signature, is_unchanged, read_database
from psweep.store._journal import journal_is_live, read_journal
from psweep.store._layout import Layout, listdir
from psweep.store._legacy016 import upgrade_016_frame
from psweep.store._rows import concat_rows, rows_to_frame

__all__ = ["db_file_or_none", "journal_status", "new_rows", "quarantined", "read_db_file", "with_pending"]


def db_file_or_none(db_path: str, *, cache: bool = True) -> tuple[pd.DataFrame | None, Signature | None]:
    """The database file and its signature; (None, None) if there is no file.

    None rather than an empty frame, so that a first run's fold builds no
    empty frame. A psweep 0.16 file is read in our format (and written so by
    the next fold). `cache`: see :func:`~psweep.store._dbfile.read_database`.
    """
    try:
        db, sig = read_database(db_path, cache=cache)
    except DatabaseNotFoundError:
        return None, None
    return upgrade_016_frame(db), sig


def read_db_file(db_path: str, *, cache: bool = True) -> pd.DataFrame:
    """The folded database only; empty if the file does not exist."""
    db, _ = db_file_or_none(db_path, cache=cache)
    return pd.DataFrame() if db is None else db


def with_pending(layout: Layout, db: pd.DataFrame | None = None, *, cache: bool = True) -> pd.DataFrame:
    """The database plus the rows of all journals that are not in it.

    `db` is the database as this process last folded it, if at hand; used
    only if the file is still that one, else the file is read (through this
    process's read cache unless `cache` is False).
    """
    rows: list[dict[str, Any]] = []
    for path in layout.journal_paths():
        rows.extend(read_journal(path, live=journal_is_live(path)))
    if db is None or not is_unchanged(layout.db_path):
        db = read_db_file(layout.db_path, cache=cache)
    fresh = new_rows(db, rows)
    return concat_rows(db, rows_to_frame(fresh)) if fresh else db


def journal_status(layout: Layout) -> list[tuple[str, bool, int]]:
    """Journals beside the database: path, whether its run is live, rows."""
    status = []
    for path in layout.journal_paths():
        live = journal_is_live(path)
        status.append((path, live, len(read_journal(path, live=live))))
    return status


def quarantined(layout: Layout) -> list[str]:
    """Journals set aside because records in them could not be read."""
    return sorted(os.path.join(layout.quarantine_dir, n) for n in listdir(layout.quarantine_dir))


def new_rows(db: pd.DataFrame | None, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose ``_pset_id`` is neither in `db` (if any) nor earlier in `rows`."""
    if not rows:
        return []
    seen = set(db["_pset_id"].tolist()) if db is not None and "_pset_id" in db.columns else set()
    ids = [row.get("_pset_id") for row in rows]
    unique = set(ids)
    if len(unique) == len(ids) and unique.isdisjoint(seen):
        return rows  # the usual case, checked in C
    fresh = []
    for row in rows:
        pset_id = row.get("_pset_id")
        if pset_id in seen:
            continue
        seen.add(pset_id)
        fresh.append(row)
    return fresh
