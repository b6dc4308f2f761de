"""The frame a run returns."""

from __future__ import annotations

import pandas as pd

from psweep.engine._recorder import Recorder
from psweep.store import Store, concat_rows, frame_in_seq_order, rows_to_frame

__all__ = ["result_frame"]


def result_frame(
    store: Store,
    save: bool,
    df: pd.DataFrame | None,
    written: pd.DataFrame | None,
    recorder: Recorder,
    run_id: str,
) -> pd.DataFrame:
    """The frame run() returns: the database after the run, or df plus the new rows."""
    if not save:
        new = frame_in_seq_order(rows_to_frame(recorder.memory_rows))
        return new if df is None else concat_rows(df, new)
    if written is None:  # nothing ran
        db = store.read() if store.exists() else pd.DataFrame()
    else:
        db = store.with_pending(written)
    if df is not None:
        return concat_rows(df, db[db["_run_id"] == run_id]) if len(db) else df
    return db
