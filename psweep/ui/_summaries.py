"""What the Failures and Coverage views show: failures grouped by error, grid coverage."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from psweep._schema import failed_mask

__all__ = ["coverage", "failure_groups", "last_line"]

# Combinations a coverage grid lists at most (beyond: not treated as a grid).
MAX_COMBINATIONS = 100_000


def last_line(texts: pd.Series) -> pd.Series:
    """The last non-empty line of each traceback: the exception and its message."""
    return texts.fillna("").astype(str).str.rstrip().str.rsplit("\n", n=1).str[-1].str.strip()


def failure_groups(failed: pd.DataFrame, params: list[str]) -> list[dict[str, Any]]:
    """Failed rows grouped by error (type and last line), largest group first.

    Each group has ``error`` (the last line), ``type``, ``count``,
    ``shared`` (the parameter values all its psets have in common) and
    ``pset_ids`` (the first 50).

    Examples
    --------
    >>> import pandas as pd
    >>> from psweep.ui._summaries import failure_groups
    >>> failed = pd.DataFrame({"a": [1, 1], "b": [2, 3], "_pset_id": ["p", "q"],
    ...                        "_exc_txt": ["Traceback\\nValueError: no", "ValueError: no\\n"]})
    >>> group = failure_groups(failed, ["a", "b"])[0]
    >>> group["type"], group["count"], group["shared"]
    ('ValueError', 2, {'a': 1})
    """
    if len(failed) == 0:
        return []
    texts = failed["_exc_txt"] if "_exc_txt" in failed.columns else pd.Series("", index=failed.index)
    errors = last_line(texts).replace("", "(no traceback)")
    groups = []
    for error, rows in failed.groupby(errors.to_numpy(), sort=False):
        shared = {}
        for col in params:
            values = rows[col].drop_duplicates()
            if len(values) == 1:
                value = values.iloc[0]
                shared[col] = value.item() if isinstance(value, np.generic) else value
        ids = rows["_pset_id"].astype(str).tolist()[:50] if "_pset_id" in rows.columns else []
        groups.append({
            "error": error, "type": error.split(":", 1)[0].strip(), "count": len(rows),
            "shared": shared, "pset_ids": ids,
        })
    return sorted(groups, key=lambda g: -g["count"])


def coverage(df: pd.DataFrame, varied: list[str]) -> dict[str, Any] | None:
    """Which combinations of the varied parameters are done, failed or missing.

    A combination is ``done`` if some row of it succeeded, ``failed`` if all
    its rows failed, ``missing`` if it has none. None when there is no
    varied parameter or the grid would exceed ``MAX_COMBINATIONS``.

    Returns
    -------
    dict or None
        ``params``, ``table`` (one row per combination, column ``status``)
        and ``counts`` (per status).

    Examples
    --------
    >>> import pandas as pd
    >>> from psweep.ui._summaries import coverage
    >>> df = pd.DataFrame({"a": [1, 1, 2], "b": [5, 6, 5], "_failed": [False, False, True]})
    >>> coverage(df, ["a", "b"])["counts"]
    {'done': 2, 'failed': 1, 'missing': 1}
    """
    if not varied or len(df) == 0:
        return None
    # Integer codes per parameter, one flat cell number per row, bincount:
    # linear in the rows, no groupby or merge of a million rows.
    codes, levels = [], []
    for col in varied:
        try:
            code, uniques = pd.factorize(df[col], sort=True)
        except TypeError:  # unhashable or unorderable values: no grid
            return None
        codes.append(code)
        levels.append(uniques)
    shape = tuple(len(v) for v in levels)
    if math.prod(shape) > MAX_COMBINATIONS:
        return None
    valued = np.all([c >= 0 for c in codes], axis=0)
    cells = np.ravel_multi_index([c[valued] for c in codes], shape)
    ok = ~np.asarray(failed_mask(df), dtype=bool)[valued]
    n_rows = np.bincount(cells, minlength=math.prod(shape))
    n_ok = np.bincount(cells, weights=ok, minlength=math.prod(shape))
    status = np.where(n_rows == 0, "missing", np.where(n_ok > 0, "done", "failed"))
    table = pd.MultiIndex.from_product(levels, names=varied).to_frame(index=False).assign(status=status)
    counts = {s: int((status == s).sum()) for s in ("done", "failed", "missing")}
    return {"params": varied, "table": table, "counts": counts}
