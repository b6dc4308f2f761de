"""A calc dir as the views see it: read once, read again only when its files change.

Reading goes through the store's read-only path (the database file plus
the rows of journals, :meth:`psweep.store.Store.with_pending`): no fold,
no lock taken, no file created, so looking at a study never changes it.
It reads past the store's read cache (``cache=False``): the study holds
the frame once (its runs table counts that frame), and reads again only
when the files change.
A run appending rows meanwhile is seen consistently: readers read the
journals before the database file, so rows appear, never vanish.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from typing import Any

import pandas as pd

from psweep._schema import RUN_RECORDS_DIR, failed_mask, is_bookkeeping
from psweep.errors import PsweepError
from psweep.frames import df_extract_params
from psweep.provenance import group_runs, run_table
from psweep.store import Store, database_name

__all__ = ["Study", "files_signature"]


def files_signature(calc_dir: str, database_basename: str) -> tuple[Any, ...]:
    """(name, size, mtime, inode) of the database file, its journals and run records.

    A change of any of them (a fold, a new row, a run starting or ending)
    changes the signature; an unchanged signature means an unchanged study.
    """
    store = Store(calc_dir, database_basename)
    paths = [store.db_path, *store.layout.journal_paths()]
    records = os.path.join(calc_dir, RUN_RECORDS_DIR)
    try:
        paths += sorted(os.path.join(records, n) for n in os.listdir(records) if n.endswith(".json"))
    except OSError:
        pass
    sig = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        sig.append((path, st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(sig)


class Study:
    """The database and runs of one calc dir, held once, refreshed when its files change.

    Parameters
    ----------
    calc_dir
        The calc dir.
    database_basename
        The database file in it; default: the one it holds.

    Attributes
    ----------
    df : pandas.DataFrame
        Every recorded row (empty if none could be read).
    error : str or None
        Why the database could not be read (missing, damaged), for a clear page.
    """

    def __init__(self, calc_dir: str, database_basename: str | None = None) -> None:
        self.calc_dir = os.fspath(calc_dir)
        self.basename = database_name(self.calc_dir, database_basename)
        self.df = pd.DataFrame()
        self.error: str | None = None
        self.version = 0
        self._signature: tuple[Any, ...] | None = None
        self._runs: pd.DataFrame | None = None
        self._params: list[str] | None = None
        self._nunique: dict[str, int] | None = None
        self._lock = threading.Lock()
        self.refresh()

    def refresh(self) -> bool:
        """Read the study again if its files changed; whether it did."""
        with self._lock:
            sig = files_signature(self.calc_dir, self.basename)
            if sig == self._signature:
                return False
            store = Store(self.calc_dir, self.basename)
            try:
                if not store.exists():
                    raise PsweepError(
                        f"no psweep database in {self.calc_dir!r} (no {self.basename}, no journal). "
                        f"Run a study first, or pass the calc dir that holds one."
                    )
                df = store.with_pending(cache=False)  # held here: no second copy in the read cache
                self.error = None
            except (PsweepError, OSError) as exc:
                df = pd.DataFrame()
                self.error = str(exc)
            self.df = df
            self._signature = sig
            self._runs = self._params = self._nunique = None
            self.version += 1
            return True

    def runs(self) -> pd.DataFrame:
        """The table of :func:`psweep.runs`, kept until the files change."""
        if self._runs is None:
            try:
                # The rows held here are counted: no second read of the database.
                rows = self.df if self.error is None else None
                self._runs = run_table(self.calc_dir, self.basename, rows=rows)
            except (PsweepError, OSError):
                self._runs = pd.DataFrame(columns=["_run_id", "state", "planned", "done", "failed", "start"])
        return self._runs

    def params(self) -> list[str]:
        """The parameter columns, in database order.

        The pset keys of the first row of each run, found exactly through
        ``_pset_hash`` (:func:`psweep.df_extract_params`); else every
        column that neither starts nor ends with ``_``.
        """
        if self._params is None:
            self._params = _param_columns(self.df)
        return self._params

    def nunique(self) -> dict[str, int]:
        """The number of distinct values of each parameter."""
        if self._nunique is None:
            self._nunique = {c: _n_unique(self.df[c]) for c in self.params()}
        return self._nunique

    def varied(self) -> list[str]:
        """Parameters with more than one value (constant ones are hidden in plots)."""
        return [c for c, n in self.nunique().items() if n > 1]

    def results(self) -> list[str]:
        """Columns that are neither parameters nor bookkeeping."""
        params = set(self.params())
        return [c for c in self.df.columns if c not in params and not is_bookkeeping(c)]

    def numeric_results(self) -> list[str]:
        """Results with a numeric dtype (what plots show)."""
        return [c for c in self.results() if pd.api.types.is_numeric_dtype(self.df[c])
                and not pd.api.types.is_bool_dtype(self.df[c])]

    def failed(self) -> pd.DataFrame:
        """The failed rows."""
        if len(self.df) == 0 or "_failed" not in self.df.columns:
            return self.df.iloc[:0]
        return self.df[failed_mask(self.df)]

    def wait_for_change(self, timeout: float) -> bool:
        """Poll the files until they change or `timeout` seconds pass; whether they changed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.refresh():
                return True
            time.sleep(0.05)
        return False


def _n_unique(col: pd.Series) -> int:
    try:
        return int(col.nunique(dropna=False))
    except TypeError:  # unhashable values (lists, dicts)
        return int(col.astype(str).nunique(dropna=False))


def _param_columns(df: pd.DataFrame) -> list[str]:
    candidates = [c for c in df.columns if isinstance(c, str) and not c.startswith("_") and not c.endswith("_")]
    if len(df) == 0 or "_pset_hash" not in df.columns or "_run_id" not in df.columns:
        return candidates
    _, first_rows = group_runs(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        psets = df_extract_params(df.iloc[first_rows])
    keys = set()
    for pset in psets:
        keys.update(pset)
    found = [c for c in candidates if c in keys]
    return found or candidates
