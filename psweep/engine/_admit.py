"""Admission of a run's psets: which still run (skip_dups), the backup, and their numbers."""

from __future__ import annotations

import dataclasses

import pandas as pd

from psweep.engine._dups import skip_done
from psweep.engine._options import RunOptions
from psweep.engine._plan import PlannedPsets
from psweep.engine._writes import start_write
from psweep.provenance import backup_calc_dir as copy_calc_dir
from psweep.store import Store, check_readable, check_writable, concat_rows

__all__ = ["Admission", "admit"]


@dataclasses.dataclass(frozen=True)
class Admission:
    """The psets a run executes, and where their numbering starts.

    Attributes
    ----------
    psets
        The planned psets less those `skip_dups` skipped.
    run_seq
        The run's ``_run_seq``.
    first_seq
        The ``_pset_seq`` of the first pset; the others follow.
    df
        The frame the run extends instead of the database on disk: the
        caller's `df`, or with ``save=False`` the database as read; None
        when the run extends the database on disk (or there is none).
    """

    psets: PlannedPsets
    run_seq: int
    first_seq: int
    df: pd.DataFrame | None


def admit(store: Store, psets: PlannedPsets, options: RunOptions, func_hash: str | None) -> Admission:
    """Decide which psets run and number them, before any of them runs.

    With ``save=True`` this happens under the database lock: the numbers
    are reserved there, so they are unique however many runs overlap, and
    the backup copies a database no other run changes meanwhile.

    Parameters
    ----------
    store
        The store the run records in (a dry run's copy when simulating).
    psets
        The planned psets.
    options
        The run's options (``save``, ``skip_dups``, ``backup``, ``df``;
        ``calc_dir`` is where earlier runs' code hashes are, also when
        simulating).
    func_hash
        The code hash of the run's function, for ``skip_dups="same-code"``.

    Returns
    -------
    Admission

    Raises
    ------
    StoreWriteError
        The calc dir cannot be written; found before any pset runs.
    LockTimeoutError
        The database lock was not had within ``lock_timeout``.
    """
    if options.save:
        return _admit_to_database(store, psets, options, func_hash)
    return _admit_in_memory(store, psets, options, func_hash)


def _admit_to_database(
    store: Store, psets: PlannedPsets, options: RunOptions, func_hash: str | None
) -> Admission:
    """:func:`admit` for a run that writes the database: under its lock."""
    df = options.df
    run_seq = first_seq = 0
    # A database this process cannot read (another pandas wrote it)
    # fails now, not after every pset ran (cheap when ours wrote it).
    check_readable(store.db_path)
    with start_write(store.calc_dir), store.locked():
        db = None
        if options.skip_dups or options.backup or df is not None:
            db = store.with_pending(store.fold())
        if options.skip_dups:
            psets = skip_done(psets, db if df is None else df, options.skip_dups, options.calc_dir, func_hash)
        if psets:
            # Before any pset runs: the final fold and the journal need these folders.
            check_writable(store.calc_dir, store.db_path, store.journal_dir)
            if options.backup:
                copy_calc_dir(store.calc_dir, db)
            at_least = (0, 0)
            if df is not None:
                # As psweep 0.16: the database gets the rows of df it
                # lacks (it only grows), and new rows are numbered after df's.
                db = _add_rows_of_df(store, db, df)
                at_least = _next_seqs(df)
            run_seq, first_seq = store.reserve_seqs(len(psets), db, at_least)
    return Admission(psets, run_seq, first_seq, df)


def _admit_in_memory(
    store: Store, psets: PlannedPsets, options: RunOptions, func_hash: str | None
) -> Admission:
    """:func:`admit` for ``save=False``: numbered after `df` or the database read."""
    df = options.df
    if df is None and not store.exists():
        return Admission(psets, 0, 0, None)
    if df is None:  # as psweep 0.16: extend the database on disk, in memory
        df = store.with_pending(store.read_db_file())
    if options.skip_dups:
        psets = skip_done(psets, df, options.skip_dups, options.calc_dir, func_hash)
    run_seq, first_seq = _next_seqs(df)
    return Admission(psets, run_seq, first_seq, df)


def _add_rows_of_df(store: Store, db: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """Write the rows of `df` whose ``_pset_id`` the database lacks; call under the lock."""
    if "_pset_id" not in df.columns or len(df) == 0:
        return db
    known = set(db["_pset_id"]) if "_pset_id" in db.columns else set()
    missing = df[~df["_pset_id"].isin(known)]
    if len(missing) == 0:
        return db
    folded = store.fold()
    store.write(concat_rows(folded, missing))
    return concat_rows(db, missing)


def _next_seqs(df: pd.DataFrame) -> tuple[int, int]:
    """(_run_seq, first _pset_seq) following the rows of `df`."""
    run_seq = first = 0
    if "_run_seq" in df.columns and df["_run_seq"].notna().any():
        run_seq = int(df["_run_seq"].max()) + 1
    if "_pset_seq" in df.columns and df["_pset_seq"].notna().any():
        first = int(df["_pset_seq"].max()) + 1
    return run_seq, first
