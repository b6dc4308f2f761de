"""A database frame as JSON text, and a calc dir's folders against its rows.

:func:`psweep.df_read` and :func:`psweep.df_write` hand ``fmt="json"`` to
the helpers here; the pickled database itself is the store's business.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import fractions
import os
import pathlib
import re
import types
from typing import Any

import numpy as np
import pandas as pd

from psweep._schema import json_write_options

__all__ = ["df_to_json", "json_ready", "check_calc_dir"]

_UUID_NAME = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def df_to_json(df: pd.DataFrame, **kwds: Any) -> str | None:
    """``df.to_json`` with defaults for databases: rows, ISO times, 15 digits.

    Parameters
    ----------
    df
        The frame.
    **kwds
        Passed to :meth:`pandas.DataFrame.to_json`; the defaults are
        ``orient=PANDAS_DEFAULT_ORIENT`` (``"records"``, a list of rows),
        ``date_format="iso"``, ``date_unit=PANDAS_TIME_UNIT`` (``"ns"``) and
        ``double_precision=15``. ``path_or_buf=`` writes a file.

    Returns
    -------
    str or None
        The JSON text, or None when written to `path_or_buf`.

    Examples
    --------
    >>> import pandas as pd, psweep as ps
    >>> ps.df_to_json(pd.DataFrame({"a": [1, 2], "b": ["x", None]}))
    '[{"a":1,"b":"x"},{"a":2,"b":null}]'
    """
    return df.to_json(**json_write_options(**kwds))


# Values pandas writes to JSON as they are (also inside lists and dicts).
_JSON_SCALARS = (str, int, float, bool, type(None), type(pd.NA), pd.Timestamp, pd.Timedelta,
                 datetime.datetime, datetime.date, datetime.timedelta, np.datetime64, np.timedelta64)
# Values that name code (a pset may hold a function, as in
# examples/vary_function_param.py): written as "module.qualname".
_CODE = (type, types.FunctionType, types.BuiltinFunctionType, np.ufunc)


def _json_value(value: Any) -> Any:
    """`value` as a value JSON holds (see :func:`json_ready`); TypeError if it has none."""
    if isinstance(value, _JSON_SCALARS):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, np.generic):
        return _json_value(value.item())
    if isinstance(value, complex):
        return {"real": value.real, "imag": value.imag}
    if isinstance(value, np.ndarray):
        return [_json_value(v) for v in value.tolist()] if value.ndim else _json_value(value.item())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (decimal.Decimal, fractions.Fraction, pathlib.PurePath)):
        return str(value)
    if isinstance(value, _CODE):
        module = getattr(value, "__module__", None) or ("numpy" if isinstance(value, np.ufunc) else None)
        name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
        if module and name:
            return f"{module}.{name}"
    raise TypeError(f"{type(value).__module__}.{type(value).__qualname__}")


def json_ready(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with every value in a form JSON holds faithfully, for :meth:`~pandas.DataFrame.to_json`.

    Columns pandas writes as they are stay as they are. In ``object``
    columns (also inside lists and dicts): ``bytes`` become their base64
    text (``base64.b64decode`` gives them back), complex numbers
    ``{"real": ..., "imag": ...}``, sets and tuples lists, numpy arrays
    nested lists, numpy scalars Python ones, ``Decimal``, ``Fraction`` and
    paths their text, functions and classes their ``"module.qualname"``
    (``"numpy.sin"``). Nullable int columns (``Int64``) become ints and
    None, which every pandas writes exactly (pandas 2 writes ``Int64`` as
    floats).

    Parameters
    ----------
    df
        The frame; not changed.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    TypeError
        If a value has no such form (an instance of a class of your own);
        the message names the column, the type and the fix.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from psweep.frames._io import json_ready
    >>> df = pd.DataFrame({"b": [b"\\x00\\xff", None], "f": [np.sin, 1 + 2j]})
    >>> json_ready(df).to_json(orient="records")
    '[{"b":"AP8=","f":"numpy.sin"},{"b":null,"f":{"real":1.0,"imag":2.0}}]'
    """
    out = df.copy(deep=False)
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        dtype = column.dtype
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iu":
            values = column.to_numpy(dtype=object, na_value=None)
            out.isetitem(position, pd.Series(values, index=out.index, dtype=object))
            continue
        if dtype != np.dtype(object):
            continue
        values = column.to_numpy()
        if set(map(type, values)) <= {str, int, float, bool, type(None)}:
            continue
        converted = np.empty(len(values), dtype=object)
        for i, value in enumerate(values):
            try:
                converted[i] = _json_value(value)
            except TypeError as exc:
                name = out.columns[position]
                raise TypeError(
                    f"column {name!r} holds a value of type {exc} ({value!r:.60}), which JSON "
                    f"cannot hold: convert the column first, e.g. df[{name!r}] = "
                    f"df[{name!r}].map(str), or write CSV, which holds each value's text"
                ) from None
        out.isetitem(position, pd.Series(converted, index=out.index, dtype=object))
    return out


def check_calc_dir(calc_dir: str | os.PathLike, df: pd.DataFrame) -> dict[str, set[str]]:
    """Compare the pset folders ``<calc_dir>/<_pset_id>/`` with the rows of `df`.

    Parameters
    ----------
    calc_dir
        The calc dir.
    df
        Its database.

    Returns
    -------
    dict
        ``db_not_disk``: ``_pset_id`` values without a folder (psets that
        wrote no files, or folders deleted); ``disk_not_db``: folders named
        like a UUID without a row (leftovers of a run that did not record
        them).

    Examples
    --------
    >>> import os, psweep as ps
    >>> def func(pset):
    ...     if pset["a"] == 1:
    ...         ps.makedirs(os.path.join(pset["_calc_dir"], pset["_pset_id"]))
    ...     return {}
    >>> df = ps.run(func, ps.plist("a", [1, 2]))
    >>> out = ps.check_calc_dir("calc", df)
    >>> out["db_not_disk"] == {df._pset_id.iloc[1]}, out["disk_not_db"]
    (True, set())
    """
    on_disk = {
        name for name in os.listdir(calc_dir)
        if _UUID_NAME.fullmatch(name) and os.path.isdir(os.path.join(calc_dir, name))
    }
    in_db = set(df["_pset_id"].astype(str)) if "_pset_id" in df.columns else set()
    return {"db_not_disk": in_db - on_disk, "disk_not_db": on_disk - in_db}
