"""Admission of a run's psets to the database: which run, numbered how."""

from __future__ import annotations

import pandas as pd

from psweep.store import Store, concat_rows

__all__ = ["add_rows_of_df", "next_seqs"]


def add_rows_of_df(store: Store, db: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
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


def next_seqs(df: pd.DataFrame) -> tuple[int, int]:
    """(_run_seq, first _pset_seq) following the rows of `df`."""
    run_seq = first = 0
    if "_run_seq" in df.columns and df["_run_seq"].notna().any():
        run_seq = int(df["_run_seq"].max()) + 1
    if "_pset_seq" in df.columns and df["_pset_seq"].notna().any():
        first = int(df["_pset_seq"].max()) + 1
    return run_seq, first
