"""A database row back to its pset: which of its columns are parameters.

A row holds parameters, results and bookkeeping. The parameters are found
exactly, by the row's ``_pset_hash``: of the columns neither starting nor
ending with ``_``, the set whose hash matches (so results need no naming
convention). psweep 0.16's convention (all such columns) is the fallback.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from typing import Any

import pandas as pd

from psweep.frames._select import _one_row, _rows, filter_cols
from psweep.params import is_missing
from psweep.params import pset_hash

__all__ = ["df_extract_params", "df_extract_pset", "find_pset_keys"]

# Subsets tried per search before giving up on finding a row's pset keys.
_MAX_SUBSETS = 20_000
_MAX_FAILED_SEARCHES = 3


def df_extract_pset(df: pd.DataFrame, pset_id: str, py_types: bool = False) -> dict[str, Any]:
    """The pset of one ``_pset_id``: its row as :func:`df_extract_params` gives it.

    Parameters
    ----------
    df
        A database.
    pset_id
        A value of ``df._pset_id``.
    py_types
        See :func:`df_extract_dicts`.

    Returns
    -------
    dict

    Raises
    ------
    ParamsError
        If `pset_id` is in no row or in several.

    Examples
    --------
    >>> import psweep as ps
    >>> df = ps.run(lambda p: {"y": 2 * p["a"]}, ps.plist("a", [1, 2]), save=False)
    >>> ps.df_extract_pset(df, df._pset_id.iloc[0])
    {'a': 1}
    """
    return df_extract_params(_one_row(df, pset_id), py_types=py_types)[0]


def _pset_keys(row: dict[str, Any], target: str, budget: int = _MAX_SUBSETS) -> tuple[str, ...] | None:
    """The keys of `row` whose pset_hash is `target`, largest set first.

    At most `budget` subsets are hashed; None if none matched.
    """
    keys = tuple(row)
    n_tried = 0
    for n_drop in range(len(keys) + 1):
        for dropped in itertools.combinations(keys[::-1], n_drop):
            n_tried += 1
            if n_tried > budget:
                return None
            subset = tuple(k for k in keys if k not in dropped)
            if pset_hash({k: row[k] for k in subset}) == target:
                return subset
    return None


def find_pset_keys(
    rows: list[dict[str, Any]], targets: list[Any], groups: list[Any], budget: int = _MAX_SUBSETS
) -> list[tuple[str, ...] | None]:
    """Per row, the keys holding a value whose pset_hash is the row's target.

    Rows with the same valued columns usually share their keys (within a
    run, and mostly across runs), so a search runs once per such group; a
    set of columns whose search failed a few times in a row (as for every
    row of a psweep 0.16 database, hashed with joblib) is not searched again.

    Parameters
    ----------
    rows
        Candidate columns of each row (values may be NA).
    targets
        Each row's ``_pset_hash`` (non-str: no keys).
    groups
        Each row's ``_run_id`` (or None).
    budget
        Subsets hashed at most per search.

    Returns
    -------
    list
        A tuple of keys per row, or None where no subset matched.

    Examples
    --------
    >>> from psweep import pset_hash
    >>> from psweep.frames._params import find_pset_keys
    >>> find_pset_keys([{"a": 1, "y": 5}], [pset_hash({"a": 1})], [None])
    [('a',)]
    """
    in_group: dict[tuple[Any, ...], tuple[str, ...]] = {}
    any_group: dict[tuple[str, ...], tuple[str, ...]] = {}
    # Searches that failed per set of columns; after a few in a row, as for
    # every row of a 0.16 database, that set is not searched again.
    failures: dict[tuple[str, ...], int] = {}
    found: list[tuple[str, ...] | None] = []
    for row, target, group in zip(rows, targets, groups):
        valued = {c: v for c, v in row.items() if not is_missing(v)}
        if not isinstance(target, str):
            found.append(None)
            continue
        columns = tuple(valued)
        keys: tuple[str, ...] | None = None
        for guess in (in_group.get((group, columns)), any_group.get(columns), columns):
            if guess is not None and pset_hash({k: valued[k] for k in guess}) == target:
                keys = guess
                break
        if keys is None and failures.get(columns, 0) < _MAX_FAILED_SEARCHES:
            keys = _pset_keys(valued, target, budget)
            if keys is None:
                failures[columns] = failures.get(columns, 0) + 1
        if keys is not None:
            in_group[(group, columns)] = any_group[columns] = keys
            failures.pop(columns, None)
        found.append(keys)
    return found


def df_extract_params(
    df: pd.DataFrame, cols: Sequence[str] | None = None, py_types: bool = False
) -> list[dict[str, Any]]:
    """Turn database rows back into psets, e.g. to re-run a failed subset.

    Parameter columns are those not starting or ending with ``_``. Of them,
    each row's pset keys are found exactly: the columns holding a value
    whose :func:`~psweep.pset_hash` equals the row's ``_pset_hash``. So
    results need no naming convention, and a re-run of the extracted psets
    hashes like the original (``skip_dups`` recognises them). A column
    without a value in a row (None, NaN, ``pd.NA``) is kept in that row's
    pset if it is a parameter of another row of the same run (the value was
    None or ``pd.NA``); else the pset lacked that key.

    Parameters
    ----------
    df
        Rows of a psweep database.
    cols
        Use exactly these columns as pset keys instead (NA values dropped).
    py_types
        See :func:`df_extract_dicts`.

    Returns
    -------
    list of dict
        One pset per row. Without a ``_pset_hash`` column, every parameter
        column of every row (psweep 0.16's convention).

    Warns
    -----
    UserWarning
        If some rows' keys cannot be found (a psweep 0.16 database, values
        edited after the run): those rows give all parameter columns, as in
        0.16. :func:`~psweep.df_update_pset_hash` recomputes the hashes.

    Examples
    --------
    >>> import psweep as ps, warnings
    >>> def func(pset):
    ...     if pset["a"] == 2:
    ...         raise ValueError("no")
    ...     return {"y": pset["a"] * 2}
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     df = ps.run(func, ps.plist("a", [1, 2, 3]), save=False)
    >>> ps.df_extract_params(df)
    [{'a': 1}, {'a': 2}, {'a': 3}]
    >>> ps.df_extract_params(df[df._failed])  # the result column y is no parameter
    [{'a': 2}]
    """
    if cols is not None:
        return [
            {c: v for c, v in row.items() if not is_missing(v)}
            for row in _rows(df[list(cols)], py_types)
        ]
    candidates = filter_cols(df.columns, "pset")
    rows = _rows(df[candidates], py_types)
    if "_pset_hash" not in df.columns:
        return rows
    targets = df["_pset_hash"].tolist()
    groups = df["_run_id"].tolist() if "_run_id" in df.columns else [None] * len(df)
    found = find_pset_keys(rows, targets, groups)
    run_cols: dict[Any, set[str]] = {}
    for keys, group in zip(found, groups):
        if keys is not None:
            run_cols.setdefault(group, set()).update(keys)
    unmatched = [position for position, keys in enumerate(found) if keys is None]
    if unmatched:
        warnings.warn(
            f"df_extract_params: {len(unmatched)} of {len(df)} rows (first: #{unmatched[0]}) "
            f"have no parameter columns matching their _pset_hash (a psweep 0.16 "
            f"database, or values edited after the run); their psets are all columns "
            f"neither starting nor ending with '_', as in 0.16. Recompute the hashes "
            f"with ps.df_update_pset_hash(df), or pick columns with cols=[...].",
            UserWarning,
            stacklevel=2,
        )
    # A column without a value in a row is a parameter of that row (None,
    # pd.NA) if it holds a parameter value in another row of the same run:
    # not if the pset lacked the key, nor in a failed row's result columns.
    return [
        row if keys is None else {
            c: v for c, v in row.items() if c in keys or (c in run_cols[group] and is_missing(v))
        }
        for row, keys, group in zip(rows, found, groups)
    ]
