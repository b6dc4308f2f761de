"""The end of a run: what it tells its user, and the frame it returns."""

from __future__ import annotations

from typing import Any

import pandas as pd

from psweep.engine._admit import Admission
from psweep.engine._dups import NOT_GIVEN, warn_repeated
from psweep.engine._notices import warn_after_run
from psweep.engine._options import RunOptions
from psweep.engine._recorder import Recorder
from psweep.engine._runoptions import fill_missing
from psweep.store import Store, concat_rows, frame_in_seq_order, rows_to_frame

__all__ = ["result"]


def result(
    func: Any,
    store: Store,
    options: RunOptions,
    admission: Admission,
    run_id: str,
    recorder: Recorder,
    written: pd.DataFrame | None,
) -> pd.DataFrame:
    """Warn about failures and repeated psets, and return the run's frame.

    Parameters
    ----------
    func
        The run's function, for the warnings.
    store
        The store the run recorded in.
    options
        The run's options.
    admission
        What the run admitted (its psets, and the frame it extends).
    run_id
        The run's ``_run_id``.
    recorder
        The run's recorder.
    written
        The database as the run's final fold wrote it, or None.

    Returns
    -------
    pandas.DataFrame
        What :func:`psweep.run` returns.
    """
    warn_after_run(recorder, func, options.on_error)
    if options.skip_dups is NOT_GIVEN:
        # The database as the run's final fold wrote it (or df in memory): no extra read.
        n_own = recorder.n_rows if options.save else 0
        db = written if options.save else admission.df
        warn_repeated(admission.psets, db, run_id, store.db_path, options.simulate, n_own)
    out = _result_frame(store, options.save, admission.df, written, recorder, run_id)
    return out if options.fill_value is None else fill_missing(out, options.fill_value)


def _result_frame(
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
