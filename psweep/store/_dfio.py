"""``df_read`` and ``df_write``: a database (or its JSON copy) by path, for users.

A path names a database file or a calc dir
(:func:`psweep.store._calcdir.resolve_database`); the pickled database is
read and written through :class:`psweep.store._store.Store`, under its lock,
JSON copies through :mod:`psweep.store._jsoncopy`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from psweep.store._calcdir import resolve_database
from psweep.store._jsoncopy import read_json, write_json
from psweep.store._store import Store

__all__ = ["df_read", "df_write"]


def df_read(path: str, fmt: str = "pickle", **kwds: Any) -> pd.DataFrame:
    """Read a psweep database, including rows not yet folded into it.

    Rows that finished in runs still going, or in runs that were killed,
    sit in journals beside the database; they are part of the result (and
    folded into the file when its lock is free).

    Parameters
    ----------
    path
        The database file, e.g. ``"calc/results.pk"``, or a calc dir (its
        ``results.pk``, or psweep 0.16's ``database.pk`` if it holds only
        that one).
    fmt
        ``"pickle"`` (a database) or ``"json"`` (a file from
        ``df_write(..., fmt="json")``, read with
        :func:`psweep.store._jsoncopy.read_json`).
    **kwds
        For ``fmt="json"``: ``orient=`` and other :func:`pandas.read_json`
        options.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DatabaseNotFoundError
        If there is no database (also a ``FileNotFoundError``); the message
        says what is at `path` instead.
    DatabaseError
        If the file is not a pickled DataFrame; it is left unchanged.

    Notes
    -----
    Unpickling runs code: only read databases you or your team wrote. Use
    CSV/JSON exports to share results.

    Examples
    --------
    >>> import psweep as ps
    >>> df = ps.df_read("calc/results.pk")  # doctest: +SKIP
    >>> import pandas as pd
    >>> ps.df_write("db.json", pd.DataFrame({"a": [1, 2]}), fmt="json", orient="split")
    >>> ps.df_read("db.json", fmt="json", orient="split").a.tolist()
    [1, 2]
    >>> df = ps.df_read("calc")  # a calc dir: the same as "calc/results.pk"  # doctest: +SKIP
    """
    if _is_json(fmt, kwds):
        return read_json(path, **kwds)
    return Store(*resolve_database(path, reading=True)).read()


def df_write(path: str, df: pd.DataFrame, fmt: str = "pickle", **kwds: Any) -> None:
    """Write `df` as a pickled database, atomically and under its lock.

    Parameters
    ----------
    path
        Target file, e.g. ``"calc/results.pk"``; folders are created. An
        existing calc dir means its database, as for :func:`df_read`.
    df
        The DataFrame.
    fmt
        ``"pickle"``, or ``"json"`` for a text copy (atomic, no lock;
        :func:`psweep.df_to_json`).
    **kwds
        For ``fmt="json"``: ``orient=`` and other
        :func:`psweep.df_to_json` options.

    Raises
    ------
    LockTimeoutError
        If another process holds the database lock too long.

    Examples
    --------
    >>> import pandas as pd, psweep as ps
    >>> ps.df_write("calc/results.pk", pd.DataFrame({"a": [1]}))  # doctest: +SKIP
    """
    if _is_json(fmt, kwds):
        write_json(path, df, **kwds)
        return
    store = Store(*resolve_database(path))
    with store.locked():
        store.write(df)


def _is_json(fmt: str, kwds: dict[str, Any]) -> bool:
    """Whether df_read/df_write handle JSON; checks fmt and its options."""
    if fmt == "json":
        return True
    if fmt != "pickle":
        raise ValueError(f"fmt={fmt!r}: use 'pickle' (the database) or 'json'.")
    if kwds:
        raise TypeError(f"options {sorted(kwds)} are for fmt='json'; a pickled database takes none.")
    return False
