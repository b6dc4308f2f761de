"""Post-processing helpers for the database DataFrame."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from psweep.errors import ParamsError
from psweep.params import pset_hash

__all__ = ["df_extract_params", "df_filter_conds", "df_print"]

# Subsets tried per group of rows before giving up on finding the pset keys.
_MAX_SUBSETS = 20_000


def _scalar_isna(value: Any) -> bool:
    isna = pd.isna(value)
    return bool(isna) if np.ndim(isna) == 0 else False


def _to_python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _pset_keys(row: dict[str, Any], target: str) -> tuple[str, ...] | None:
    """The keys of `row` whose pset_hash is `target`, largest set first."""
    keys = tuple(row)
    for n_drop in range(len(keys) + 1):
        for n_tried, dropped in enumerate(itertools.combinations(keys[::-1], n_drop)):
            if n_tried > _MAX_SUBSETS:
                return None
            subset = tuple(k for k in keys if k not in dropped)
            if pset_hash({k: row[k] for k in subset}) == target:
                return subset
    return None


# What a None or NaN parameter may have been before the database stored it
# as a missing cell (a float column holds None as NaN).
_MISSING_VALUES = (None, float("nan"), pd.NA)


def _pset_keys_with_missing(
    series: pd.Series, candidates: Sequence[str], target: str
) -> tuple[tuple[str, ...] | None, dict[str, Any]]:
    """Like _pset_keys, with missing cells put back as None, NaN or NA."""
    for missing in _MISSING_VALUES:
        row = {c: missing if _scalar_isna(series[c]) else _to_python(series[c]) for c in candidates}
        try:
            keys = _pset_keys(row, target)
        except ParamsError:  # a value (pd.NA) this hash cannot take
            continue
        if keys is not None:
            return keys, row
    return None, {}


def df_extract_params(df: pd.DataFrame, cols: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Turn database rows back into psets, e.g. to re-run a failed subset.

    Without `cols`, each row's pset keys are found exactly: among the
    columns not starting with ``_`` that hold a value in that row, the set
    whose :func:`~psweep.pset_hash` equals the row's ``_pset_hash``. So
    results need no naming convention, and a re-run of the extracted psets
    hashes like the original (``skip_dups`` recognises them).

    Parameters
    ----------
    df
        Rows of a psweep database.
    cols
        Use exactly these columns as pset keys instead (NA values dropped).

    Returns
    -------
    list of dict
        One pset per row, with plain Python scalars.

    Raises
    ------
    ParamsError
        If a row's pset keys cannot be found (no ``_pset_hash`` column, or
        values changed since); pass `cols` then.

    Examples
    --------
    >>> import psweep as ps
    >>> df = ps.run(lambda p: {"y": p["a"] * 2}, ps.plist("a", [1, 2]), save=False)
    >>> ps.df_extract_params(df)
    [{'a': 1}, {'a': 2}]
    """
    candidates = list(cols) if cols is not None else [c for c in df.columns if not str(c).startswith("_")]
    params = []
    cache: dict[tuple[Any, ...], tuple[str, ...] | None] = {}
    for position, (_, series) in enumerate(df.iterrows()):
        row = {c: _to_python(series[c]) for c in candidates if not _scalar_isna(series[c])}
        if cols is not None:
            params.append(row)
            continue
        target = series.get("_pset_hash")
        if not isinstance(target, str):
            raise ParamsError(
                f"df_extract_params: row #{position} has no _pset_hash, so its "
                f"pset keys are unknown. Pass the parameter columns: "
                f"df_extract_params(df, cols=['a', 'b'])."
            )
        group = (series.get("_run_id"), tuple(row))
        keys = cache.get(group)
        if keys is None or pset_hash({k: row[k] for k in keys}) != target:
            keys = _pset_keys(row, target)
            if keys is None:
                keys, row = _pset_keys_with_missing(series, candidates, target)
            else:
                cache[group] = keys
        if keys is None:
            raise ParamsError(
                f"df_extract_params: no set of columns of row #{position} hashes "
                f"to its _pset_hash {target} (values edited after the run?). "
                f"Pass the parameter columns: df_extract_params(df, cols=[...])."
            )
        params.append({k: row[k] for k in keys})
    return params


def df_filter_conds(df: pd.DataFrame, conds: Sequence[Any], op: str = "and") -> pd.DataFrame:
    """Rows of `df` meeting all (``op="and"``) or any (``op="or"``) of `conds`.

    Parameters
    ----------
    df
        The database.
    conds
        Boolean Series or arrays, e.g. ``[df.a > 1, df.b == "x"]``.
    op
        ``"and"`` or ``"or"``.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValueError
        For another `op`, or no conditions.

    Examples
    --------
    >>> import pandas as pd, psweep as ps
    >>> df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "x"]})
    >>> ps.df_filter_conds(df, [df.a > 1, df.b == "x"])["a"].tolist()
    [3]
    >>> ps.df_filter_conds(df, [df.a == 1, df.b == "y"], op="or")["a"].tolist()
    [1, 2]
    """
    if op not in ("and", "or"):
        raise ValueError(f"df_filter_conds: op={op!r}; use 'and' or 'or'.")
    if len(conds) == 0:
        raise ValueError("df_filter_conds: give at least one condition, e.g. [df.a > 1].")
    masks = [np.asarray(c, dtype=bool) for c in conds]
    combined = np.logical_and.reduce(masks) if op == "and" else np.logical_or.reduce(masks)
    return df[combined]


def df_print(
    df: pd.DataFrame,
    cols: Sequence[str] | None = None,
    prefix_cols: bool = False,
    index: bool = False,
) -> None:
    """Print `df` as a table: parameters and results, bookkeeping on request.

    Parameters
    ----------
    df
        The database.
    cols
        Columns to show (in this order); default all.
    prefix_cols
        Also show ``_`` bookkeeping columns not named in `cols`.
    index
        Show the index (the ``_time_utc`` timestamps).

    Examples
    --------
    >>> import pandas as pd, psweep as ps
    >>> ps.df_print(pd.DataFrame({"a": [1, 2], "_pset_id": ["p", "q"]}))
     a
     1
     2
    """
    if cols is None:
        show = [c for c in df.columns if prefix_cols or not str(c).startswith("_")]
    else:
        extra = [c for c in df.columns if prefix_cols and str(c).startswith("_") and c not in cols]
        show = list(cols) + extra
    print(df[show].to_string(index=index))
