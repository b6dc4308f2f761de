"""A database frame as JSON text, and a calc dir's folders against its rows.

:func:`psweep.df_read` and :func:`psweep.df_write` hand ``fmt="json"`` to
the helpers here; the pickled database itself is the store's business.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pandas as pd

from psweep.constants import PANDAS_DEFAULT_ORIENT, PANDAS_TIME_UNIT
from psweep.util import makedirs

__all__ = ["df_to_json", "check_calc_dir"]

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
    options = {
        "orient": PANDAS_DEFAULT_ORIENT,
        "date_format": "iso",
        "date_unit": PANDAS_TIME_UNIT,
        "double_precision": 15,
    }
    options.update(kwds)
    return df.to_json(**options)


def write_frame_json(path: str | os.PathLike, df: pd.DataFrame, **kwds: Any) -> None:
    """Write `df` as JSON (:func:`df_to_json`) to `path`, atomically.

    A temporary file in the same folder is renamed over `path`, so a reader
    never sees half a file.

    Parameters
    ----------
    path
        Target file; its folder is created.
    df
        The frame.
    **kwds
        Passed to :func:`df_to_json`, e.g. ``orient="split"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from psweep.frames_io import read_frame_json, write_frame_json
    >>> write_frame_json("out/db.json", pd.DataFrame({"a": [1.5]}))
    >>> read_frame_json("out/db.json")
         a
    0  1.5
    """
    path = os.fspath(path)
    makedirs(os.path.dirname(path))
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        df_to_json(df, path_or_buf=tmp, **kwds)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_frame_json(path: str | os.PathLike, **kwds: Any) -> pd.DataFrame:
    """Read a frame written by :func:`write_frame_json`.

    Parameters
    ----------
    path
        The JSON file.
    **kwds
        Passed to :func:`pandas.read_json`; ``orient`` defaults to
        ``PANDAS_DEFAULT_ORIENT`` and must match the writer's.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> from psweep.frames_io import read_frame_json, write_frame_json
    >>> write_frame_json("db.json", pd.DataFrame({"a": [1]}), orient="split")
    >>> read_frame_json("db.json", orient="split").a.tolist()
    [1]
    """
    kwds.setdefault("orient", PANDAS_DEFAULT_ORIENT)
    kwds.setdefault("precise_float", True)
    return pd.read_json(os.fspath(path), **kwds)


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
