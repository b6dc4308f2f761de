"""Each run's rows in ``_pset_seq`` order (the order of its params).

Pools and Dask finish psets in any order, and rows are journaled as they
arrive (streaming durability). Order is restored when rows are folded into
the database, never by holding rows back: the new rows are sorted, and if a
fold during the run already stored later rows of the same run, that run's
rows are sorted among the places they hold (rows of concurrent runs may
interleave by run).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["rows_in_seq_order", "runs_in_seq_order"]


def rows_in_seq_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` sorted by ``_pset_seq`` (stable); as they are if already sorted.

    Parameters
    ----------
    rows
        Row dicts; rows lacking a number keep the order given.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> from psweep.rowsort import rows_in_seq_order
    >>> [r["x"] for r in rows_in_seq_order([{"x": "b", "_pset_seq": 1}, {"x": "a", "_pset_seq": 0}])]
    ['a', 'b']
    """
    try:
        seqs = [row["_pset_seq"] for row in rows]
        if seqs == sorted(seqs):  # the usual case: serial runs, one chunk
            return rows
        order = sorted(range(len(rows)), key=seqs.__getitem__)
    except (KeyError, TypeError):
        return rows
    return [rows[i] for i in order]


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
    >>> from psweep.rowsort import runs_in_seq_order
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
