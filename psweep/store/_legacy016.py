"""psweep 0.16's calc dirs and rows, and what a path holds, for messages.

0.16 stored every column as ``object``, indexed rows 0, 1, 2, ..., hashed
psets with joblib and had no ``_failed`` column. Its rows are brought into
our format whenever the store reads them (:func:`upgrade_016_frame`), and
the file takes that format on the first write (the next run's fold):
``_pset_hash`` is our hash of the columns 0.16 counted as parameters,
``_failed`` is False unless the function returned ``_failed=True`` (0.16's
``safe_func`` pattern), and the index is ``_time_utc``. Row order and
values are kept. Which database a calc dir holds (0.16's ``database.pk``
or ours) is decided in :mod:`psweep.store._calcdir`.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd

from psweep.store._calcdir import BASENAME_016, DEFAULT_BASENAME
from psweep.store._columns import numbers_from_016
from psweep.errors import DatabaseNotFoundError, PsweepError, caller_stacklevel
from psweep.params import is_missing, pset_hash
from psweep._schema import ENGINE_KEYS, ENGINE_KEY_ORDER, counters_path, journal_dir

__all__ = [
    "describe_path",
    "not_found_error",
    "unreadable_message",
    "is_016_frame",
    "upgrade_016_frame",
]


def describe_path(path: str) -> str:
    """What is at `path`, in words, for an error message about it.

    Parameters
    ----------
    path
        Any path.

    Returns
    -------
    str
        E.g. ``"a folder holding: a.txt, b"``, ``"a 12-byte text file
        beginning 'a,b'"``, or what its parent folder holds if it does not
        exist.

    Examples
    --------
    >>> import psweep.store._legacy016
    >>> psweep.store._legacy016.describe_path("no/such/folder/x.pk")
    "nothing: 'no/such/folder/x.pk' does not exist, nor does its folder 'no/such/folder'"
    """
    if os.path.isdir(path):
        return f"a folder holding: {_listing(path)}"
    if os.path.isfile(path):
        try:
            with open(path, "rb") as fd:
                head = fd.read(64)
            size = os.path.getsize(path)
        except OSError as exc:
            return f"a file that cannot be read ({exc})"
        if not head:
            return "an empty file"
        if head[:1] == b"\x80":
            return f"a {size}-byte pickle (damaged, or not a DataFrame)"
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            return f"a {size}-byte binary file, not a pickle"
        return f"a {size}-byte text file beginning {text[:40]!r}, not a pickle"
    parent = os.path.dirname(path) or "."
    if os.path.isdir(parent):
        return f"nothing: {parent!r} holds {_listing(parent)}"
    return f"nothing: {path!r} does not exist, nor does its folder {parent!r}"


def _listing(folder: str, limit: int = 12) -> str:
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        return f"(unreadable: {exc})"
    if not names:
        return "nothing (it is empty)"
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} entries)" if len(names) > limit else "")


def not_found_error(calc_dir: str, basename: str) -> DatabaseNotFoundError:
    """The error for a database that does not exist, saying what is there.

    Parameters
    ----------
    calc_dir, basename
        Where the database was looked for.

    Returns
    -------
    DatabaseNotFoundError
    """
    path = os.path.join(calc_dir, basename)
    hint = "Check the path, or run a study first (ps.run / f.over) to create it."
    if basename != BASENAME_016 and os.path.isfile(os.path.join(calc_dir, BASENAME_016)):
        hint = (
            f"That folder holds psweep 0.16's {BASENAME_016}: read it with "
            f"ps.df_read({calc_dir!r}) or pass database_basename={BASENAME_016!r}."
        )
    return DatabaseNotFoundError(
        f"no psweep database at {path!r}; found {describe_path(path)}. {hint}"
    )


def _names_a_database(path: str) -> bool:
    """Whether psweep keeps (or kept) a database at `path`: a default name,
    or the files runs keep for it beside it (counters, journals). Not its
    lock file: a read makes that one."""
    folder, base = os.path.split(os.path.abspath(path))
    if base in (DEFAULT_BASENAME, BASENAME_016):
        return True
    return os.path.exists(counters_path(folder, base)) or os.path.isdir(
        journal_dir(folder, base)
    )


def _backups_of(path: str) -> list[str]:
    """Backup copies of the database `path` (``<calc_dir>_<stamp>/<name>``), newest first."""
    folder, base = os.path.split(os.path.abspath(path))
    parent, name = os.path.split(folder)
    try:
        siblings = os.listdir(parent)
    except OSError:
        return []
    found = [
        os.path.join(parent, sibling, base)
        for sibling in siblings
        if sibling.startswith(name + "_") and os.path.isfile(os.path.join(parent, sibling, base))
    ]
    if not os.path.isabs(path):
        found = [os.path.relpath(p) for p in found]
    return sorted(found, reverse=True)


def unreadable_message(path: str, exc: BaseException) -> str:
    """The message for a database file that cannot be unpickled.

    A file psweep keeps a database in (``results.pk``, ``database.pk``, or
    one with psweep's lock or journals beside it) is damaged: the message
    says how to restore it from a backup or move it aside. Any other file
    (``notes.txt``) was passed by mistake: the message says what it is and
    what to pass.

    Parameters
    ----------
    path
        The file.
    exc
        What unpickling raised.

    Returns
    -------
    str
    """
    found = describe_path(path)
    if found.startswith("a folder") or not _names_a_database(path):
        return (
            f"cannot read {path!r}: it is {found}, not a psweep database "
            f"({type(exc).__name__}: {exc}). Pass a psweep database file "
            f"(e.g. 'calc/results.pk') or a calc dir; the file was left unchanged."
        )
    backups = _backups_of(path)
    calc_dir = os.path.dirname(path) or "."
    if backups:
        restore = f"Restore it from a backup, e.g. the newest: cp {backups[0]!r} {path!r}"
    else:
        restore = (
            f"Restore it from a backup if you have one (backup=True copies the "
            f"calc dir to {calc_dir}_<timestamp> before each run that changes it)"
        )
    return (
        f"the database {path!r} is damaged ({found}; unpickling it raised "
        f"{type(exc).__name__}: {exc}). The file was left unchanged. {restore}; "
        f"or move it aside (mv {path!r} {path + '.damaged'!r}) to start a new "
        f"database: runs then no longer see its rows."
    )


# -- 0.16's rows ------------------------------------------------------------


def is_016_frame(df: pd.DataFrame) -> bool:
    """Whether `df` is a database written by psweep 0.16 (not yet ours).

    0.16 indexed rows by position and stored every column as ``object``;
    our databases are indexed by ``_time_utc`` with an int ``_pset_seq``.

    Parameters
    ----------
    df
        A database as read from its file.

    Returns
    -------
    bool

    Examples
    --------
    >>> import pandas as pd, psweep.store._legacy016
    >>> psweep.store._legacy016.is_016_frame(pd.DataFrame({"a": [1]}))
    False
    """
    columns = df.columns
    return (
        len(df) > 0
        and "_pset_seq" in columns
        and "_time_utc" in columns
        and "_pset_id" in columns
        and not isinstance(df.index, pd.DatetimeIndex)
        and df["_pset_seq"].dtype == object
    )


def upgrade_016_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A psweep 0.16 database in our format; any other frame as it is.

    * ``_pset_hash``: :func:`psweep.pset_hash` of the columns 0.16 counted
      as parameters (names neither starting nor ending with ``_``), leaving
      out missing cells (0.16 filled keys a pset did not have with NA);
      missing if a value cannot be hashed (with a warning);
    * ``_failed``: False, or what the function returned as ``_failed``;
      ``_exc_txt``: missing, or what it returned;
    * the index: ``_time_utc`` (datetime64), as in our databases;
    * columns: parameters and results, then bookkeeping; ``object``
      columns that hold only numbers and missing cells (0.16 filled them
      with ``pd.NA``) become numeric as our rows' columns do (ints with
      gaps ``Int64``, see :mod:`psweep.store._columns`), and those of only bools
      ``bool``.

    Rows keep their order and values.

    Parameters
    ----------
    df
        A database as read from its file.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd, psweep.store._legacy016
    >>> old = pd.DataFrame({"a": [1, 2], "_pset_id": ["x", "y"], "_pset_seq": [0, 1],
    ...     "_time_utc": pd.to_datetime(["2025-01-01", "2025-01-02"])}, dtype=object)
    >>> new = psweep.store._legacy016.upgrade_016_frame(old)
    >>> new["_failed"].tolist(), str(new.index.dtype), str(new["_pset_seq"].dtype)
    ([False, False], 'datetime64[ns]', 'int64')
    """
    if not is_016_frame(df):
        return df
    out = df.copy()
    param_cols = [c for c in out.columns if isinstance(c, str) and not c.startswith("_") and not c.endswith("_")]
    hashes: list[str | None] = []
    unhashable = 0
    for values in out[param_cols].itertuples(index=False, name=None):
        pset = {k: v for k, v in zip(param_cols, values) if not is_missing(v)}
        try:
            hashes.append(pset_hash(pset))
        except PsweepError:
            hashes.append(None)
            unhashable += 1
    if unhashable:
        warnings.warn(
            f"psweep: {unhashable} rows of a psweep 0.16 database hold values "
            f"psweep cannot hash; their _pset_hash is missing, so skip_dups "
            f"runs their psets again.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    out["_pset_hash"] = hashes
    failed = out["_failed"] if "_failed" in out.columns else pd.Series(False, index=out.index)
    out["_failed"] = [bool(v) if not is_missing(v) else False for v in failed]
    if "_exc_txt" not in out.columns:
        out["_exc_txt"] = None
    times = pd.to_datetime(out["_time_utc"]).to_numpy(dtype="datetime64[ns]")
    out["_time_utc"] = times
    out.index = pd.DatetimeIndex(times)
    columns = [c for c in out.columns if c not in ENGINE_KEYS]
    columns += [c for c in ENGINE_KEY_ORDER if c in out.columns]
    out = out[columns]
    # Columns of numbers become numeric, missing cells (0.16's pd.NA)
    # included: ints with gaps Int64, other numbers float64, as our rows.
    for position in range(out.shape[1]):
        if out.dtypes.iloc[position] == np.dtype(object):
            numbers = numbers_from_016(out.iloc[:, position].to_numpy())
            if numbers is not None:
                out.isetitem(position, numbers)
    return out.infer_objects()
