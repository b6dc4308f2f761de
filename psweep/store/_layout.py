"""Where one database's files lie in its calc dir.

For ``calc_dir="calc"`` and the default ``database_basename="results.pk"``::

    calc/results.pk                       the folded database (a pickled DataFrame)
    calc/results.pk.lock                  filelock guarding every change of it
    calc/.psweep/journal/results.pk/<_run_id>.jnl2  rows of a run not yet folded,
                                                    locked (flock) while the run lives
                                                    (.jnl: those of earlier drivers)
    calc/.psweep/journal/results.pk/<_run_id>.jnl2.alive  its sign of life
                                                   (host, pid; refreshed mtime)
    calc/.psweep/results.pk.counters.json  last _run_seq / _pset_seq handed out
    calc/results.pk.lease                 exists while a process holds the lock
                                          (excludes other hosts; see _lease)
    calc/.psweep/quarantine/results.pk/    journals of dead runs with unreadable
                                           records, set aside whole
"""

from __future__ import annotations

import os

from psweep._schema import (
    JOURNAL_SUFFIX,
    JOURNAL_SUFFIXES,
    LOCK_SUFFIX,
    counters_path,
    journal_dir,
    quarantine_dir,
)

__all__ = ["Layout", "listdir"]


class Layout:
    """The paths of one database and its lock, journals, counters and quarantine.

    A plain class, not a dataclass: building a dataclass costs about as
    much as importing a small module, paid by every process at import.
    """

    __slots__ = ("calc_dir", "db_path", "lock_path", "journal_dir", "counters_path", "quarantine_dir")

    def __init__(
        self,
        calc_dir: str,
        db_path: str,
        lock_path: str,
        journal_dir: str,
        counters_path: str,
        quarantine_dir: str,
    ) -> None:
        self.calc_dir = calc_dir
        self.db_path = db_path
        self.lock_path = lock_path
        self.journal_dir = journal_dir
        self.counters_path = counters_path
        self.quarantine_dir = quarantine_dir

    def __repr__(self) -> str:
        return f"Layout(calc_dir={self.calc_dir!r}, db_path={self.db_path!r})"

    @classmethod
    def of(cls, calc_dir: str, database_basename: str) -> Layout:
        """The layout of database `database_basename` in `calc_dir`."""
        db_path = os.path.join(calc_dir, database_basename)
        return cls(
            calc_dir=calc_dir,
            db_path=db_path,
            lock_path=db_path + LOCK_SUFFIX,
            journal_dir=journal_dir(calc_dir, database_basename),
            counters_path=counters_path(calc_dir, database_basename),
            quarantine_dir=quarantine_dir(calc_dir, database_basename),
        )

    @property
    def lease_path(self) -> str:
        """The lease file held with the database lock (see :mod:`psweep.store._lease`)."""
        return self.db_path + ".lease"

    def journal_paths(self) -> list[str]:
        """The journals of this database's runs, sorted (not those still being created)."""
        names = listdir(self.journal_dir)
        return sorted(os.path.join(self.journal_dir, n) for n in names if n.endswith(JOURNAL_SUFFIXES))

    def journal_path(self, run_id: str) -> str:
        """The journal of run `run_id`."""
        return os.path.join(self.journal_dir, run_id + JOURNAL_SUFFIX)


def listdir(folder: str) -> list[str]:
    """The names in `folder`; none if it does not exist."""
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []
