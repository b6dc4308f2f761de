"""Database columns from row values: pandas' inference, with ints kept exact.

Rows become columns the way ``pd.DataFrame.from_records`` makes them, with
one exception (issue 20, item 6): a column holding only ints and missing
values (a key some psets lack, a None) becomes pandas' nullable ``Int64``,
not ``float64``. A float64 column rounds ints beyond 2**53 (seeds), and
turns 1001 into 1001.0, which then comes back as a float from
:func:`psweep.df_extract_params`. ``Int64`` keeps every int exact and an int;
missing cells are ``pd.NA``. ``df[df.a == 1]``, ``df.a.mean()``,
``groupby("a")`` and ``astype(float)`` work as on float64, and
``np.asarray(df.a)`` gives float64 with NaN (what plotting needs).

The same rule applies wherever columns meet: rows of a run joined to the
database (:func:`concat_frames`: an int column beside a run lacking it, or
beside an older float column of whole numbers, becomes ``Int64``; beside
floats with a fraction it becomes float64, as a column of floats does) and
psweep 0.16's all-``object`` columns (:func:`numbers_from_016`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype
from pandas.core.internals.construction import convert_object_array  # from_records' own conversion

from psweep.params import is_missing

__all__ = ["object_column", "ints_with_gaps", "exact_ints_from_rows", "concat_frames", "numbers_from_016"]

_INT64 = pd.Int64Dtype()
_ABSENT = object()
# Floats and ints beyond this are not all exact in float64.
_EXACT_IN_FLOAT = 2**53


def _is_int_value(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _first_value_is_int(values: Any) -> bool:
    """Whether the first value that is not missing is an int (not a bool)."""
    if isinstance(values, np.ndarray):  # looked up in C: a column may be all missing
        if len(values):  # the usual first values are never missing: no scan
            kind = type(values[0])
            if kind is str or kind is bool:
                return False
            if kind is int:
                return True
        missing = pd.isna(values)
        if not len(values) or missing.all():
            return False
        return _is_int_value(values[int(np.argmin(missing))])
    for value in values:
        if not is_missing(value):
            return _is_int_value(value)
    return False


def ints_with_gaps(values: np.ndarray) -> Any:
    """The column of `values` if they are ints and missing values, else None.

    Parameters
    ----------
    values
        Object array of one column's values; None, NaN or ``pd.NA`` where
        missing.

    Returns
    -------
    pandas.arrays.IntegerArray, numpy.ndarray or None
        ``Int64``; `values` themselves (``object``, exact) for ints beyond
        64 bits; None if the values are not all ints.

    Examples
    --------
    >>> import numpy as np
    >>> from psweep.store._columns import ints_with_gaps
    >>> ints_with_gaps(np.array([2**60 + 1, None], dtype=object)).tolist()
    [1152921504606846977, <NA>]
    >>> ints_with_gaps(np.array([1.5, None], dtype=object)) is None
    True
    """
    if not _first_value_is_int(values) or infer_dtype(values, skipna=True) != "integer":
        return None
    try:
        return pd.array(values, dtype=_INT64)
    except (OverflowError, TypeError, ValueError):
        return values  # ints beyond int64: kept as they are


def object_column(values: np.ndarray) -> Any:
    """One column from the object array of its values, as ``from_records`` converts it,
    except that ints with missing values become ``Int64`` (see :func:`ints_with_gaps`).

    Parameters
    ----------
    values
        Object array; NaN where a row lacks the key.

    Returns
    -------
    array-like

    Examples
    --------
    >>> import numpy as np
    >>> from psweep.store._columns import object_column
    >>> str(object_column(np.array([1, np.nan], dtype=object)).dtype)
    'Int64'
    >>> str(object_column(np.array([1, 2.5], dtype=object)).dtype)
    'float64'
    """
    converted = convert_object_array([values], dtype=None)[0]
    if converted.dtype.kind in "fO":
        ints = ints_with_gaps(values)
        if ints is not None:
            return ints
    return converted


def exact_ints_from_rows(df: pd.DataFrame, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """`df` (``from_records`` of `rows`) with int columns that have gaps as ``Int64``.

    ``from_records`` makes such columns float64, which rounds ints beyond
    2**53; their values are taken from `rows` again.

    Parameters
    ----------
    df
        The frame made from `rows`, one column per key.
    rows
        The row dicts.

    Returns
    -------
    pandas.DataFrame
        `df`, changed in place.
    """
    for position, key in enumerate(df.columns):
        column = df.iloc[:, position]
        if column.dtype == np.float64 and column.hasnans:
            if not _first_value_is_int(row.get(key) for row in rows):
                continue
            values = np.empty(len(rows), dtype=object)
            values[:] = [row.get(key, np.nan) for row in rows]
        elif column.dtype == object:
            values = column.to_numpy()
        else:
            continue
        ints = ints_with_gaps(values)
        if ints is not None:
            df.isetitem(position, ints)
    return df


def _is_int(dtype: Any) -> bool:
    return dtype == _INT64 or (isinstance(dtype, np.dtype) and dtype.kind in "iu")


def _whole_floats(column: pd.Series) -> bool:
    """Whether a float64 column holds only whole numbers within int64 (and NaN)."""
    values = column.to_numpy()
    finite = values[~np.isnan(values)]
    return bool(np.all(finite == np.floor(finite)) and np.all(np.abs(finite) < 2**63))


def _as_int64(column: pd.Series) -> pd.Series:
    return column.astype(_INT64)


def concat_frames(df: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``pd.concat([df, new])``, keeping int columns exact where values agree.

    An int column that the other frame lacks (or has only missing values
    in, or whole floats, as older psweep versions stored ints with gaps)
    becomes ``Int64``: pandas would make it float64 and round ints beyond
    2**53. An int column beside floats with a fraction becomes float64.

    Parameters
    ----------
    df, new
        Frames with columns; either may be empty of rows.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> from psweep.store._columns import concat_frames
    >>> out = concat_frames(pd.DataFrame({"seed": [2**60 + 1]}), pd.DataFrame({"a": [1]}))
    >>> out["seed"].tolist(), str(out["seed"].dtype)
    ([1152921504606846977, <NA>], 'Int64')
    """
    if len(df) and len(new) and df.columns.is_unique and new.columns.is_unique:
        df, new = _align_int_columns(df, new), _align_int_columns(new, df)
    with warnings.catch_warnings():
        # pandas < 3 warns about all-NA columns changing dtype inference.
        warnings.simplefilter("ignore", FutureWarning)
        return pd.concat([df, new], sort=False)


def _align_int_columns(df: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """`df` with each int column made ``Int64`` (or float64) as its meeting with `other` needs."""
    changes: dict[Any, Any] = {}
    other_dtypes = dict(zip(other.columns, other.dtypes))
    for key, dtype in zip(df.columns, df.dtypes):
        theirs = other_dtypes.get(key, _ABSENT)
        if theirs is _ABSENT and _is_int(dtype) and dtype != _INT64:
            changes[key] = _INT64  # the other rows lack it: gaps
        elif theirs is not _ABSENT and dtype != theirs:
            if _is_int(dtype) and theirs == np.float64:
                if other[key].isna().all() or _whole_floats(other[key]):
                    changes[key] = _INT64
                else:
                    changes[key] = np.float64  # beside floats: a float column
            elif dtype == np.float64 and _is_int(theirs):
                if df[key].isna().all() or _whole_floats(df[key]):
                    changes[key] = _INT64
            elif dtype != _INT64 and _is_int(dtype) and theirs == _INT64:
                changes[key] = _INT64
    if not changes:
        return df
    return df.astype(changes)


def numbers_from_016(values: np.ndarray) -> Any:
    """A psweep 0.16 ``object`` column as our columns are, if it holds numbers.

    0.16 filled keys a pset lacked with ``pd.NA``, which keeps pandas from
    making such a column numeric; here ints with missing values become
    ``Int64`` and other numbers float64 (or complex), missing as NaN.

    Parameters
    ----------
    values
        The column's object array.

    Returns
    -------
    array-like or None
        None if the column holds other values than numbers (and missing).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from psweep.store._columns import numbers_from_016
    >>> numbers_from_016(np.array([1.5, pd.NA], dtype=object)).tolist()
    [1.5, nan]
    """
    kind = infer_dtype(values, skipna=True)
    if kind not in ("integer", "floating", "mixed-integer-float", "complex"):
        return None
    normalized = np.array([np.nan if is_missing(v) else v for v in values], dtype=object)
    return object_column(normalized)
