"""A database as JSON text: ``df_write(fmt="json")`` and ``df_read(fmt="json")``.

The store's own small writer and reader, so that it needs nothing from
:mod:`psweep.frames` (which works on frames, above the store); the options
are :func:`psweep._schema.json_write_options`, as for :func:`psweep.df_to_json`.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from psweep._files import write_atomic
from psweep._schema import PANDAS_DEFAULT_ORIENT, json_write_options

__all__ = ["read_json", "write_json"]


def write_json(path: str | os.PathLike, df: pd.DataFrame, **kwds: Any) -> None:
    """Write `df` as JSON to `path`, atomically (folder created).

    `kwds` go to :meth:`pandas.DataFrame.to_json` over the defaults of
    :func:`psweep._schema.json_write_options`.

    Examples
    --------
    >>> import pandas as pd
    >>> from psweep.store._jsoncopy import read_json, write_json
    >>> write_json("out/db.json", pd.DataFrame({"a": [1.5]}))
    >>> read_json("out/db.json").a.tolist()
    [1.5]
    """
    text = df.to_json(**json_write_options(**kwds))
    write_atomic(os.fspath(path), (text or "").encode("utf-8"))


def read_json(path: str | os.PathLike, **kwds: Any) -> pd.DataFrame:
    """Read a frame written by :func:`write_json`.

    `kwds` go to :func:`pandas.read_json`; ``orient`` defaults to
    ``PANDAS_DEFAULT_ORIENT`` and must match the writer's; floats are read
    precisely.
    """
    kwds.setdefault("orient", PANDAS_DEFAULT_ORIENT)
    kwds.setdefault("precise_float", True)
    return pd.read_json(os.fspath(path), **kwds)
