"""Post-processing helpers for the database DataFrame: select, show, rows as dicts.

Which columns of a row are its pset is :mod:`psweep.frames._params`'s
business.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psweep.errors import ParamsError
from psweep._schema import is_bookkeeping

__all__ = [
    "filter_cols",
    "df_extract_dicts",
    "df_extract_row",
    "df_filter_conds",
    "df_print",
]

_KINDS = {"pset": "pset", "pre": "prefix", "prefix": "prefix", "post": "postfix", "postfix": "postfix"}


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


def _is_nan_number(value: Any) -> bool:
    return isinstance(value, (float, complex, np.floating, np.complexfloating)) and value != value


def _rows(df: pd.DataFrame, py_types: bool) -> list[dict[str, Any]]:
    if py_types:  # pandas' own conversion to builtin types
        rows = [series.to_dict() for _, series in df.iterrows()]
    else:
        # itertuples keeps each value as its column holds it (an object
        # column's np.float32 stays one) and handles names starting with "_".
        rows = [dict(zip(df.columns, row)) for row in df.itertuples(index=False, name=None)]
    # A missing number (NaN of a float or complex column, made anew for
    # each read) is the one object np.nan, so that a row extracted twice
    # compares equal (NaN != NaN, but np.nan is np.nan), as 0.16's did.
    for row in rows:
        for key, value in row.items():
            if _is_nan_number(value):
                row[key] = np.nan
    return rows


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
    >>> df["n"] = pd.array([1, None, 3], dtype="Int64")  # ints with a gap
    >>> ps.df_filter_conds(df, [df.n < 3])["a"].tolist()  # the gap is no match
    [1]
    """
    combine = {"and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor}.get(op)
    if combine is None:
        raise ValueError(f"df_filter_conds: op={op!r}; use 'and', 'or' or 'xor'.")
    masks = []
    for index, cond in enumerate(conds):
        if isinstance(cond, (pd.Series, pd.api.extensions.ExtensionArray)) and cond.dtype == "boolean":
            # A comparison with a nullable column (Int64 with gaps) is NA where
            # the value is missing: no match, as df[cond] itself takes it.
            cond = cond.fillna(False)
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
            if (prefix_cols or not is_bookkeeping(c)) and c not in skip
        ]
    else:
        extra = [c for c in df.columns if prefix_cols and is_bookkeeping(c) and c not in cols]
        show = list(cols) + extra
    print(df[show].to_string(index=index))
