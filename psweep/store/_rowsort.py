"""Each run's rows in ``_pset_seq`` order (the order of its params).

Pools and Dask finish psets in any order, and rows are journaled as they
arrive (streaming durability). Order is restored when rows are folded into
the database, never by holding rows back: the new rows are sorted, and if a
fold during the run already stored later rows of the same run, that run's
rows are sorted among the places they hold (rows of concurrent runs may
interleave by run).
"""

from __future__ import annotations


import numpy as np
import pandas as pd

__all__ = ["frame_in_seq_order", "runs_in_seq_order"]


def frame_in_seq_order(new: pd.DataFrame) -> pd.DataFrame:
    """The frame of new rows `new` sorted by ``_pset_seq`` (stable); as it is if sorted.

    Parameters
    ----------
    new
        New rows (a frame of :func:`psweep.store._rows.rows_to_frame`); rows
        lacking a number keep the order given.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> from psweep.store._rowsort import frame_in_seq_order
    >>> frame_in_seq_order(pd.DataFrame({"x": ["b", "a"], "_pset_seq": [1, 0]}))["x"].tolist()
    ['a', 'b']
    """
    if "_pset_seq" not in new.columns or len(new) < 2:
        return new
    seqs = new["_pset_seq"]
    if seqs.is_monotonic_increasing or seqs.isna().any():
        return new  # the usual case: serial runs, one chunk
    return new.iloc[np.argsort(seqs.to_numpy(), kind="stable")]


def runs_in_seq_order(db: pd.DataFrame, n_new: int) -> pd.DataFrame:
    """`db` whose last `n_new` rows were just appended (sorted), with the
    rows of their runs in ``_pset_seq`` order.

    Only when an earlier fold of the same run stored a row numbered after a
    new one is anything moved: each such run's rows are sorted among the
    positions they hold; other rows stay where they are.

    Parameters
    ----------
    db
        The database with the new rows at its end.
    n_new
        How many rows at the end are new.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> from psweep.store._rowsort import runs_in_seq_order
    >>> df = pd.DataFrame({"_run_id": ["r", "r", "r"], "_pset_seq": [1, 2, 0]})
    >>> runs_in_seq_order(df, 1)["_pset_seq"].tolist()
    [0, 1, 2]
    """
    n_old = len(db) - n_new
    if n_new == 0 or n_old == 0 or "_pset_seq" not in db.columns or "_run_id" not in db.columns:
        return db
    seqs = db["_pset_seq"].to_numpy()
    try:
        # New rows all numbered after the stored ones (the usual case, also
        # when NaN): nothing to move.
        if not seqs[n_old] < db["_pset_seq"].iloc[:n_old].max():
            return db
    except TypeError:  # numbers of unexpected types: leave the order alone
        return db
    run_ids = db["_run_id"].to_numpy()
    perm = np.arange(len(db))
    for run_id in pd.unique(run_ids[n_old:]):
        places = np.flatnonzero(run_ids == run_id)
        perm[places] = places[np.argsort(seqs[places], kind="stable")]
    return db.take(perm)
