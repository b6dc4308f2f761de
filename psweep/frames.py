"""Post-processing helpers for the database DataFrame."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psweep.errors import ParamsError
from psweep.params import pset_hash

__all__ = [
    "filter_cols",
    "df_extract_dicts",
    "df_extract_row",
    "df_extract_pset",
    "df_extract_params",
    "df_filter_conds",
    "df_print",
]

# Subsets tried per group of rows before giving up on finding the pset keys.
_MAX_SUBSETS = 20_000
_MAX_FAILED_SEARCHES = 3
_KINDS = {"pset": "pset", "pre": "prefix", "prefix": "prefix", "post": "postfix", "postfix": "postfix"}


def _scalar_isna(value: Any) -> bool:
    isna = pd.isna(value)
    return bool(isna) if np.ndim(isna) == 0 else False


def filter_cols(cols: Iterable[str], kind: str = "pset") -> list[str]:
    """Column names of one kind, by the naming convention.

    Parameters
    ----------
    cols
        Column names, e.g. ``df.columns``.
    kind
        ``"pset"``: names neither starting nor ending with ``_`` (parameters);
        ``"pre"``/``"prefix"``: starting with ``_`` (bookkeeping);
        ``"post"``/``"postfix"``: ending with ``_`` (results, by convention).

    Returns
    -------
    list of str
        The matching names, in their order.

    Raises
    ------
    ValueError
        For another `kind`.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.filter_cols(["_pset_id", "a", "b", "y_"])
    ['a', 'b']
    >>> ps.filter_cols(["_pset_id", "a", "y_"], kind="post")
    ['y_']
    """
    which = _KINDS.get(kind)
    if which is None:
        raise ValueError(f"filter_cols: kind={kind!r}; use one of {sorted(_KINDS)}.")
    picked = []
    for col in cols:
        name = str(col)
        is_pre, is_post = name.startswith("_"), name.endswith("_")
        if (which == "prefix" and is_pre) or (which == "postfix" and is_post) or (
            which == "pset" and not (is_pre or is_post)
        ):
            picked.append(col)
    return picked


def _rows(df: pd.DataFrame, py_types: bool) -> list[dict[str, Any]]:
    if py_types:  # pandas' own conversion to builtin types
        return [series.to_dict() for _, series in df.iterrows()]
    # itertuples keeps each value as its column holds it (an object
    # column's np.float32 stays one) and handles names starting with "_".
    return [dict(zip(df.columns, row)) for row in df.itertuples(index=False, name=None)]


def df_extract_dicts(df: pd.DataFrame, py_types: bool = False) -> list[dict[str, Any]]:
    """Every row of `df` as a dict of all its columns.

    Parameters
    ----------
    df
        Any DataFrame, e.g. a database.
    py_types
        If True, let pandas turn values into builtin Python types
        (``Series.to_dict``); else keep them as the columns hold them.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> import pandas as pd, psweep as ps
    >>> ps.df_extract_dicts(pd.DataFrame({"a": [1, 2], "_b": ["x", "y"]}))
    [{'a': 1, '_b': 'x'}, {'a': 2, '_b': 'y'}]
    """
    return _rows(df, py_types)


def _one_row(df: pd.DataFrame, pset_id: str) -> pd.DataFrame:
    picked = df[df["_pset_id"] == pset_id]
    if len(picked) != 1:
        raise ParamsError(
            f"_pset_id {pset_id!r} is in {len(picked)} rows of the database, not "
            f"exactly one. Pass a _pset_id from df._pset_id."
        )
    return picked


def df_extract_row(
    df: pd.DataFrame, pset_id: str, kind: str | None = None, py_types: bool = False
) -> dict[str, Any]:
    """The row of one ``_pset_id`` as a dict.

    Parameters
    ----------
    df
        A database.
    pset_id
        A value of ``df._pset_id``.
    kind
        Only columns of this kind (see :func:`filter_cols`); default all.
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
    >>> df = ps.run(lambda p: {"y_": 2 * p["a"]}, ps.plist("a", [1, 2]), save=False)
    >>> row = ps.df_extract_row(df, df._pset_id.iloc[1])
    >>> row["a"], row["y_"]
    (2, 4)
    >>> ps.df_extract_row(df, df._pset_id.iloc[1], kind="post")
    {'y_': 4}
    """
    picked = _one_row(df, pset_id)
    if kind is not None:
        picked = picked[filter_cols(picked.columns, kind)]
    return _rows(picked, py_types)[0]


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
    >>> from psweep.frames import find_pset_keys
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
        valued = {c: v for c, v in row.items() if not _scalar_isna(v)}
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
            {c: v for c, v in row.items() if not _scalar_isna(v)}
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
            c: v for c, v in row.items() if c in keys or (c in run_cols[group] and _scalar_isna(v))
        }
        for row, keys, group in zip(rows, found, groups)
    ]


def df_filter_conds(df: pd.DataFrame, conds: Iterable[Any], op: str = "and") -> pd.DataFrame:
    """Rows of `df` meeting all (``"and"``), any (``"or"``) or an odd number
    (``"xor"``) of `conds`.

    Parameters
    ----------
    df
        The database.
    conds
        Boolean Series, arrays or lists, one value per row, e.g.
        ``[df.a > 1, df.b == "x"]``; any iterable of them (a generator, a
        ``map``). No conditions: all rows.
    op
        ``"and"``, ``"or"`` or ``"xor"``, fused as ``numpy.logical_<op>``.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValueError
        For another `op`, or a condition whose length is not ``len(df)``.

    Examples
    --------
    >>> import pandas as pd, psweep as ps
    >>> df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "x"]})
    >>> ps.df_filter_conds(df, [df.a > 1, df.b == "x"])["a"].tolist()
    [3]
    >>> ps.df_filter_conds(df, [df.a == 1, df.b == "y"], op="or")["a"].tolist()
    [1, 2]
    >>> ps.df_filter_conds(df, map(lambda c: c.to_numpy(), [df.a > 1, df.b == "x"]), op="xor")["a"].tolist()
    [1, 2]
    """
    combine = {"and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor}.get(op)
    if combine is None:
        raise ValueError(f"df_filter_conds: op={op!r}; use 'and', 'or' or 'xor'.")
    masks = []
    for index, cond in enumerate(conds):
        mask = np.asarray(cond, dtype=bool)
        if mask.shape != (len(df),):
            raise ValueError(
                f"df_filter_conds: condition #{index} has shape {mask.shape}, but df has "
                f"{len(df)} rows; each condition needs one bool per row, e.g. df.a > 1."
            )
        masks.append(mask)
    if not masks:
        return df
    return df[combine.reduce(masks)]


def df_print(
    df: pd.DataFrame,
    cols: Sequence[str] | None = None,
    prefix_cols: bool = False,
    index: bool = False,
    *,
    skip_cols: Sequence[str] | None = None,
    special_cols: bool | None = None,
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
    skip_cols
        Columns to leave out of the default selection; not with `cols`.
    special_cols
        Old name of `prefix_cols` (deprecated in psweep 0.16).

    Raises
    ------
    ValueError
        If both `cols` and `skip_cols` are given.

    Examples
    --------
    >>> import pandas as pd, psweep as ps
    >>> df = pd.DataFrame({"a": [1, 2], "b": [3, 4], "_pset_id": ["p", "q"]})
    >>> ps.df_print(df)
     a  b
     1  3
     2  4
    >>> ps.df_print(df, skip_cols=["b"], prefix_cols=True)
     a _pset_id
     1        p
     2        q
    """
    if special_cols is not None:
        warnings.warn(
            "df_print: special_cols is deprecated, use prefix_cols",
            DeprecationWarning,
            stacklevel=2,
        )
        prefix_cols = special_cols
    if cols is not None and skip_cols:
        raise ValueError("df_print: pass either cols= or skip_cols=, not both.")
    if cols is None:
        skip = set(skip_cols or ())
        show = [
            c for c in df.columns
            if (prefix_cols or not str(c).startswith("_")) and c not in skip
        ]
    else:
        extra = [c for c in df.columns if prefix_cols and str(c).startswith("_") and c not in cols]
        show = list(cols) + extra
    print(df[show].to_string(index=index))
