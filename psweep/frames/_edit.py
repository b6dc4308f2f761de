"""Changing a database frame by hand: pset columns, hashes and dtypes.

psweep 0.16's tools for adding a parameter to an existing study: add the
column to old rows (filled with a missing value), refresh ``_pset_hash``,
then extend the study with ``skip_dups=True``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from psweep._schema import FILL_VALUE
from psweep.errors import ParamsError
from psweep.frames._select import _rows, filter_cols
from psweep.frames._params import find_pset_keys
from psweep.params import pset_hash

__all__ = ["df_update_pset_hash", "df_update_pset_cols", "df_ensure_dtypes"]


def df_update_pset_hash(df: pd.DataFrame, copy: bool = False) -> pd.DataFrame:
    """Add or refresh the ``_pset_hash`` column from each row's parameters.

    A row whose hash still matches some of its parameter columns (see
    :func:`~psweep.df_extract_params`) keeps it, so results named without
    a trailing ``_`` never enter the hash. Other rows (no hash, values
    edited, a hash of psweep 0.16) get the hash of all their parameter
    columns by the naming convention: names neither starting nor ending
    with ``_``.

    Parameters
    ----------
    df
        A database.
    copy
        Work on a copy; else `df` itself is changed (and returned).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd, psweep as ps
    >>> df = pd.DataFrame({"a": [1, 2], "y_": [0.5, 0.7]})
    >>> ps.df_update_pset_hash(df)._pset_hash.tolist() == [
    ...     ps.pset_hash({"a": 1}), ps.pset_hash({"a": 2})]
    True
    """
    out = df.copy() if copy else df
    rows = _rows(out[filter_cols(out.columns, "pset")], py_types=False)
    targets = out["_pset_hash"].tolist() if "_pset_hash" in out.columns else [None] * len(out)
    groups = out["_run_id"].tolist() if "_run_id" in out.columns else [None] * len(out)
    # A small search budget: rows of 0.16 (joblib hashes) never match, and
    # a failed search is not repeated within a run.
    found = find_pset_keys(rows, targets, groups, budget=2_000)
    out["_pset_hash"] = [
        target if keys is not None else pset_hash(row)
        for row, target, keys in zip(rows, targets, found)
    ]
    return out


def df_update_pset_cols(
    df: pd.DataFrame,
    pset_cols: Iterable[str],
    fill_value: Any = FILL_VALUE,
    copy: bool = False,
) -> pd.DataFrame:
    """Give `df` every parameter column in `pset_cols`, then refresh ``_pset_hash``.

    Use it when a study gains a parameter: old rows get the new column
    filled with `fill_value`. A missing value hashes like a missing key, so
    old rows keep their hashes and ``skip_dups`` still recognises them.

    Parameters
    ----------
    df
        A database.
    pset_cols
        All parameter names of the study, old and new.
    fill_value
        Value of the new columns in old rows.
    copy
        Work on a copy; else `df` itself is changed (and returned).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ParamsError
        If `pset_cols` leaves out a parameter column `df` already has.

    Examples
    --------
    >>> import pandas as pd, psweep as ps
    >>> df = pd.DataFrame({"a": [1, 2]})
    >>> df = ps.df_update_pset_cols(df, ["a", "c"], fill_value=None)
    >>> df.c.tolist(), df._pset_hash[0] == ps.pset_hash({"a": 1})
    ([None, None], True)
    """
    out = df.copy() if copy else df
    wanted = list(dict.fromkeys(pset_cols))
    dropped = [c for c in filter_cols(out.columns, "pset") if c not in wanted]
    if dropped:
        raise ParamsError(
            f"df_update_pset_cols: pset_cols={wanted!r} leaves out the parameter "
            f"columns {dropped!r} that df has. Pass all parameters of the study, old "
            f"and new, e.g. pset_cols={filter_cols(out.columns, 'pset') + ['new']!r}."
        )
    for col in wanted:
        if col not in out.columns:
            out[col] = pd.Series([fill_value] * len(out), index=out.index, dtype=object)
    return df_update_pset_hash(out, copy=False)


def df_ensure_dtypes(df: pd.DataFrame, fill_value: Any = FILL_VALUE) -> pd.DataFrame:
    """All columns as ``object`` dtype, missing scalars replaced by `fill_value`.

    psweep 0.16 kept its frames this way to stop pandas from converting
    types; our database keeps numeric dtypes, and this gives 0.16's form
    where a script needs it. Values that are not scalars (arrays, lists)
    are left as they are.

    Parameters
    ----------
    df
        Any DataFrame; changed in place and returned.
    fill_value
        Replacement of None, NaN, ``pd.NA`` and ``NaT``.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import numpy as np, pandas as pd, psweep as ps
    >>> df = ps.df_ensure_dtypes(pd.DataFrame({"a": [1.5, np.nan]}), fill_value=None)
    >>> df.a.tolist(), df.a.dtype
    ([1.5, None], dtype('O'))
    """

    def fill(value: Any) -> Any:
        isna = pd.isna(value)
        if np.ndim(isna) == 0 and isna:
            return fill_value
        return value

    for col in df.columns:
        df[col] = pd.Series([fill(v) for v in df[col].tolist()], index=df.index, dtype=object)
    return df
