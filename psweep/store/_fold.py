"""Folding journals into the database file, atomically, under the lock.

A fold ("compaction") reads the database and the journals, writes the union
to a temporary file in the same folder, and ``os.replace``s it over the
database: the file is never torn. Journals are removed only after the
replace, and rows are de-duplicated by ``_pset_id``, so a crash in between
costs neither rows nor adds duplicates.

Against a deleted or replaced lock file (two processes then hold locks on
different files), the lock is checked right before the replace (and taken
again if lost), and the replace happens only if the database file is still
the one the fold read (its signature), else the fold starts anew.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

import pandas as pd

from psweep._files import is_locked, is_temp_of, remove_if_unlocked
from psweep.store._dbfile import signature, write_database
from psweep.store._journal import NEW_SUFFIX, Journal, journal_is_live, read_journal
from psweep.store._layout import Layout, listdir
from psweep.store._liveness import ALIVE_SUFFIX, sign_may_live
from psweep.store._lock import DatabaseLock
from psweep.store._reading import db_file_or_none, new_rows
from psweep.store._rows import concat_rows, rows_to_frame
from psweep.store._rowsort import frame_in_seq_order, runs_in_seq_order

__all__ = ["STALE_NEW_JOURNAL_AGE", "fold"]

# Seconds after which an unlocked journal under its temporary name is left
# over from a process that died while creating it.
STALE_NEW_JOURNAL_AGE = 60.0

def fold(
    layout: Layout,
    lock: DatabaseLock,
    lock_timeout: float,
    own: Journal | None = None,
    own_rows: list[dict[str, Any]] | None = None,
    own_rows_unseen: bool = False,
) -> pd.DataFrame:
    """Fold journals into the database; call with `lock` held.

    Folds `own` (the calling run's journal, then emptied) and the journals
    of runs that died; leaves journals of other live runs alone. `own_rows`
    are the rows of `own` as the caller holds them (saves reading the
    journal back); `own_rows_unseen` says no fold has taken them before.
    See :meth:`psweep.store.Store.fold`. Returns the database as written.
    """
    remove_stale_tempfiles(layout)
    while True:
        done = _fold_once(layout, lock, lock_timeout, own, own_rows, own_rows_unseen)
        if done is not None:
            break
        # Another process changed the database meanwhile (possible only
        # when the lock file was deleted): fold anew from its new state.
        own_rows_unseen = False
    db, dead = done
    if own is not None:
        own.truncate()
    for path, readable in dead:
        if readable:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        else:
            _quarantine(layout, path)
        with contextlib.suppress(FileNotFoundError):
            os.remove(path + ALIVE_SUFFIX)  # a dead run's stale sign of life
    return pd.DataFrame() if db is None else db


def _fold_once(
    layout: Layout,
    lock: DatabaseLock,
    lock_timeout: float,
    own: Journal | None,
    own_rows: list[dict[str, Any]] | None,
    own_rows_unseen: bool,
) -> tuple[pd.DataFrame | None, list[tuple[str, bool]]] | None:
    """Write the database plus the journals' new rows.

    Returns the database and the dead journals read (with whether all their
    records were readable), or None if the
    database changed between its reading and the replace.
    """
    db, db_signature = db_file_or_none(layout.db_path)
    rows, dead = _journal_rows(layout, own, own_rows, own_rows_unseen)
    fresh = new_rows(db, rows)
    if own_rows and own_rows_unseen:
        fresh = own_rows + fresh
    if fresh:
        new = frame_in_seq_order(rows_to_frame(fresh))
        db = new if db is None else runs_in_seq_order(concat_rows(db, new), len(new))

        def may_replace() -> bool:
            # Right before the replace: the fold's result stands only if
            # nobody changed the database since it was read.
            lock.keep(lock_timeout)
            return signature(layout.db_path) == db_signature

        if not write_database(layout.db_path, db, may_replace):
            return None
    return db, dead


def _journal_rows(
    layout: Layout, own: Journal | None, own_rows: list[dict[str, Any]] | None, own_rows_unseen: bool
) -> tuple[list[dict[str, Any]], list[tuple[str, bool]]]:
    """The rows a fold takes from journals, and the dead journals it read."""
    rows: list[dict[str, Any]] = []
    dead: list[tuple[str, bool]] = []
    own_path = os.path.abspath(own.path) if own is not None else None
    if own_rows is not None and not own_rows_unseen:
        rows.extend(own_rows)
    for path in layout.journal_paths():
        if os.path.abspath(path) == own_path:
            if own_rows is None:
                rows.extend(read_journal(path, live=True))
            continue
        # Folding happens under the database lock, so nobody else
        # folds or removes this dead journal meanwhile.
        if journal_is_live(path):
            continue
        unreadable: list[str] = []
        rows.extend(read_journal(path, live=False, unreadable=unreadable))
        dead.append((path, not unreadable))
    return rows, dead


def _quarantine(layout: Layout, path: str) -> None:
    """Move a dead run's journal with unreadable records out of the way, kept."""
    os.makedirs(layout.quarantine_dir, exist_ok=True)
    target = os.path.join(layout.quarantine_dir, os.path.basename(path))
    while os.path.lexists(target):
        target += "~"
    with contextlib.suppress(FileNotFoundError):
        os.rename(path, target)


def remove_stale_tempfiles(layout: Layout) -> None:
    """Remove temp files and new journals left by processes that died writing them."""
    # Database temp files are written under the lock and locked while
    # written: an unlocked one was left by a process killed mid-write.
    # Only this database's (not those of results.pk.v2 beside it).
    # A journal still under its temporary name is empty; unlocked and
    # not brand-new (its process may be between creating and locking
    # it), its process died while creating it.
    folder = os.path.dirname(os.path.abspath(layout.db_path))
    for name in listdir(folder):
        if is_temp_of(layout.db_path, name):
            remove_if_unlocked(os.path.join(folder, name))
    # A sign of life without its journal: the journal is being created, or
    # its run died before it was; left over once the sign is stale.
    paths = [os.path.join(layout.journal_dir, name) for name in listdir(layout.journal_dir)]
    stale = [
        path
        for path in paths
        if path.endswith(NEW_SUFFIX) and _age(path) > STALE_NEW_JOURNAL_AGE and not is_locked(path)
        or path.endswith(ALIVE_SUFFIX)
        and not os.path.lexists(path.removesuffix(ALIVE_SUFFIX))
        and not sign_may_live(path)
    ]
    for path in stale:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def _age(path: str) -> float:
    """Seconds since `path` was last modified (0 if it is gone)."""
    try:
        return time.time() - os.stat(path).st_mtime
    except FileNotFoundError:
        return 0.0
