"""Tests of psweep/store/_fold.py: journals into the database file, atomically, under the lock.

Real files, real journals (flocked while their run lives), real filelock.
"""

from __future__ import annotations

import os
import time

import pytest

from psweep.store._dbfile import read_database, write_database
from psweep.store._fold import STALE_NEW_JOURNAL_AGE, fold
from psweep.store._journal import NEW_SUFFIX, Journal, read_journal
from psweep.store._layout import Layout
from psweep.store._lock import DatabaseLock
from psweep.store._rows import rows_to_frame

TIMEOUT = 60


def rows(run: int, n: int, start: int = 0) -> list[dict]:
    return [{"_pset_id": f"r{run}-{i}", "_run_seq": run, "_pset_seq": start + i, "x": i} for i in range(n)]


@pytest.fixture
def calc(tmp_path):
    """The layout of calc/results.pk under tmp_path and its lock, held during the test."""
    layout = Layout.of(str(tmp_path / "calc"), "results.pk")
    os.makedirs(layout.calc_dir)
    lock = DatabaseLock(layout.lock_path, layout.db_path)
    lock.acquire(timeout=TIMEOUT)
    yield layout, lock
    lock.release()


def dead_journal(layout: Layout, run: int, records: list[dict]) -> str:
    journal = Journal(layout.journal_path(f"run{run}"))
    for row in records:
        journal.append(row)
    journal.close(remove=False)
    return journal.path


def test_own_and_dead_journals_are_folded_live_ones_left(calc):
    """A fold takes the caller's journal (emptied) and dead runs' (removed), not other live runs'."""
    layout, lock = calc
    dead = dead_journal(layout, 1, rows(1, 2))
    other = Journal(layout.journal_path("run2"))  # live: locked by its (this) process
    other.append(rows(2, 1)[0])
    own = Journal(layout.journal_path("run3"))
    for row in rows(3, 3, start=10):
        own.append(row)
    db = fold(layout, lock, TIMEOUT, own=own)
    on_disk, _ = read_database(layout.db_path)
    assert sorted(on_disk["_pset_id"]) == sorted(db["_pset_id"]) == ["r1-0", "r1-1", "r3-0", "r3-1", "r3-2"]
    assert not os.path.exists(dead)
    assert read_journal(own.path, live=True) == []
    assert read_journal(other.path, live=True) == rows(2, 1)
    own.close(remove=True)
    other.close(remove=True)


def test_refolding_adds_no_duplicates(calc):
    """Rows already in the database (a crash between replace and journal removal) are not added again."""
    layout, lock = calc
    write_database(layout.db_path, rows_to_frame(rows(1, 2)))
    dead_journal(layout, 1, rows(1, 3))
    db = fold(layout, lock, TIMEOUT)
    assert db["_pset_id"].tolist() == ["r1-0", "r1-1", "r1-2"]


def test_unreadable_dead_journal_is_quarantined_whole(calc):
    """A dead journal with a damaged record gives its readable rows and is moved aside, kept."""
    layout, lock = calc
    path = dead_journal(layout, 1, [rows(1, 1)[0], [1, 2, 3], rows(1, 2)[1]])  # a list is no row
    with pytest.warns(RuntimeWarning, match="unreadable"):
        db = fold(layout, lock, TIMEOUT)
    assert db["_pset_id"].tolist() == ["r1-0", "r1-1"]
    assert not os.path.exists(path)
    assert os.listdir(layout.quarantine_dir) == [os.path.basename(path)]


class ForeignFoldOnKeep(DatabaseLock):
    """A lock whose first keep() finds that another process changed the database meanwhile."""

    def __init__(self, lock_path: str, db_path: str) -> None:
        super().__init__(lock_path, db_path)
        self.keeps = 0

    def keep(self, timeout: float) -> None:
        self.keeps += 1
        if self.keeps == 1:
            write_database(self.db_path, rows_to_frame(rows(9, 2)))
        super().keep(timeout)


def test_fold_starts_anew_when_the_database_changed_before_the_replace(tmp_path):
    """A database replaced between the fold's read and its replace is folded again, losing no row."""
    layout = Layout.of(str(tmp_path), "results.pk")
    lock = ForeignFoldOnKeep(layout.lock_path, layout.db_path)
    lock.acquire(timeout=TIMEOUT)
    dead_journal(layout, 1, rows(1, 2))
    db = fold(layout, lock, TIMEOUT)
    lock.release()
    assert lock.keeps == 2
    assert sorted(db["_pset_id"]) == ["r1-0", "r1-1", "r9-0", "r9-1"]
    assert sorted(read_database(layout.db_path)[0]["_pset_id"]) == sorted(db["_pset_id"])


def test_stale_new_journals_are_removed_fresh_ones_kept(calc):
    """An unlocked journal under its temporary name older than the limit goes; a recent one stays."""
    layout, lock = calc
    os.makedirs(layout.journal_dir)
    stale = os.path.join(layout.journal_dir, "old.jnl" + NEW_SUFFIX)
    fresh = os.path.join(layout.journal_dir, "new.jnl" + NEW_SUFFIX)
    for path in (stale, fresh):
        open(path, "wb").close()
    past = time.time() - STALE_NEW_JOURNAL_AGE - 5
    os.utime(stale, (past, past))
    fold(layout, lock, TIMEOUT)
    assert not os.path.exists(stale) and os.path.exists(fresh)
    assert not os.path.exists(layout.db_path)  # nothing to fold: no file written
