"""The bookkeeping schema: reserved column names, their order, which the engine owns.

One place for what the store, the worker, the run and the frame helpers
agree on (DESIGN.md §3), so none of them reaches into another for it.

Examples
--------
>>> from psweep._schema import ENGINE_KEYS, is_bookkeeping
>>> "_pset_id" in ENGINE_KEYS, is_bookkeeping("_vary"), is_bookkeeping("a")
(True, True, False)
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

__all__ = [
    "VERSION",
    "CALC_DIR",
    "FILL_VALUE",
    "GIT_ADD_ALL",
    "PANDAS_DEFAULT_ORIENT",
    "PANDAS_TIME_UNIT",
    "PSET_HASH_ALG",
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_BASENAME",
    "BASENAME_016",
    "BOOKKEEPING_PREFIX",
    "ENGINE_KEY_ORDER",
    "ENGINE_KEYS",
    "EXC_KEY",
    "MAIN_CLASS_KEY",
    "LOCK_SUFFIX",
    "BOOKKEEPING_DIR",
    "RUN_RECORDS_DIR",
    "SIMULATE_SUFFIX",
    "SIMULATE_LOCK",
    "TMPSAVE_DIR",
    "LOGS_FILE",
    "LOGS_TMP_PREFIX",
    "PSET_FILE",
    "journal_dir",
    "quarantine_dir",
    "counters_path",
    "simulate_dir",
    "NO_RESULT_KEY",
    "JOURNAL_NEW_SUFFIX",
    "JOURNAL_SUFFIX",
    "JOURNAL_SUFFIXES",
    "journal_run_id",
    "failed_mask",
    "is_bookkeeping",
]

try:
    #: psweep's version, read once from the installed package's metadata.
    VERSION = version("psweep")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    VERSION = "0+unknown"

# -- Defaults: the one place each is decided --------------------------------

#: Default ``calc_dir`` of :func:`psweep.run` and :func:`psweep.sweep`.
CALC_DIR = "calc"

#: What :func:`psweep.df_update_pset_cols` and :func:`psweep.df_ensure_dtypes`
#: put into missing cells by default: NaN, which is what our database holds
#: for a missing value in a column of numbers (0.16: ``pd.NA`` in its
#: all-object frames). Hashing treats None, NaN and ``pd.NA`` alike.
FILL_VALUE = np.nan

#: The git command with which :func:`psweep.git_enter` and
#: :func:`psweep.git_exit` stage every change before committing.
GIT_ADD_ALL = "git add -A -v"

#: Default ``orient`` of JSON written and read by :func:`psweep.df_to_json`,
#: ``df_write(fmt="json")`` and ``df_read(fmt="json")``: a list of rows.
PANDAS_DEFAULT_ORIENT = "records"

#: Unit of timestamps in JSON from :func:`psweep.df_to_json`. Nanoseconds,
#: so ``_time_utc`` keeps its full precision (0.16: ``"s"``, whole seconds).
PANDAS_TIME_UNIT = "ns"

#: Default ``method`` of :func:`psweep.pset_hash`, the :mod:`hashlib`
#: algorithm of the ``_pset_hash`` column.
PSET_HASH_ALG = "sha1"

#: Seconds to wait for a database's lock before giving up.
DEFAULT_LOCK_TIMEOUT = 600.0

# -- Calc-dir file names ------------------------------------------------------

#: The database file name of a new calc dir.
DEFAULT_BASENAME = "results.pk"
#: psweep 0.16's database file name, continued in calc dirs that hold only it.
BASENAME_016 = "database.pk"
#: The lock file of a database is ``<database>.lock``.
LOCK_SUFFIX = ".lock"
#: ``<calc_dir>/.psweep/``: journals, counters and quarantine of its databases.
BOOKKEEPING_DIR = ".psweep"
#: ``<calc_dir>/backup_script/``: each run's record ``<_run_id>.json`` and
#: source ``<_run_id>.py`` (0.16's name for the folder of copied scripts).
RUN_RECORDS_DIR = "backup_script"
#: ``<calc_dir>.simulate/``: the folder of dry runs, and the lock dry runs take there.
SIMULATE_SUFFIX = ".simulate"
SIMULATE_LOCK = ".simulate.lock"
#: ``<calc_dir>/tmpsave/<_run_id>/<_pset_id>.pk``: 0.16's ``tmpsave=`` files.
TMPSAVE_DIR = "tmpsave"
#: ``<calc_dir>/<_pset_id>/logs.txt``: what a pset printed (``capture_logs``
#: with a file); ``<TMPDIR>/psweep-logs-<_run_id>/``: the same for ``"db"``.
LOGS_FILE = "logs.txt"
LOGS_TMP_PREFIX = "psweep-logs-"
#: ``<calc_dir>/<_pset_id>/pset.pk``: a pset for its batch job (``write_pset``).
PSET_FILE = "pset.pk"


def journal_dir(calc_dir: str, database_basename: str) -> str:
    """``<calc_dir>/.psweep/journal/<database>/``: the journals of a database's live or dead runs."""
    return os.path.join(calc_dir, BOOKKEEPING_DIR, "journal", database_basename)


def quarantine_dir(calc_dir: str, database_basename: str) -> str:
    """``<calc_dir>/.psweep/quarantine/<database>/``: dead journals with unreadable records."""
    return os.path.join(calc_dir, BOOKKEEPING_DIR, "quarantine", database_basename)


def counters_path(calc_dir: str, database_basename: str) -> str:
    """``<calc_dir>/.psweep/<database>.counters.json``: the last run and pset numbers handed out."""
    return os.path.join(calc_dir, BOOKKEEPING_DIR, database_basename + ".counters.json")


def simulate_dir(calc_dir: str) -> str:
    """``<calc_dir>.simulate``: where dry runs of `calc_dir` go.

    Examples
    --------
    >>> from psweep._schema import simulate_dir
    >>> simulate_dir("calc/")
    'calc.simulate'
    """
    return os.path.normpath(os.fspath(calc_dir)) + SIMULATE_SUFFIX

# Columns whose names start with this are bookkeeping: never part of a
# pset's hash, hidden by default in tables.
BOOKKEEPING_PREFIX = "_"

# Bookkeeping columns the engine owns, in the order they close a row: a
# value func returns under one of these names is overwritten, so the
# database stays consistent.
ENGINE_KEY_ORDER = (
    "_run_id",
    "_pset_id",
    "_calc_dir",
    "_pset_hash",
    "_pset_seq",
    "_run_seq",
    "_time_utc",
    "_exec_host",
    "_pset_runtime",
    "_failed",
    "_exc_txt",
)
ENGINE_KEYS = frozenset(ENGINE_KEY_ORDER)

# Key under which a failed row carries the exception object back to the
# driver for on_error="raise"; removed before the row is recorded.
EXC_KEY = "__psweep_exception__"

# Key under which a worker tells the driver (key, class name) of a result
# whose class is defined in __main__; removed before the row is recorded.
MAIN_CLASS_KEY = "__psweep_main_class__"

# Key a worker sets in the row of a pset whose function returned None (no
# return statement?), so the driver can say so when every pset did; the
# recorder removes it before the row is stored. An explicit ``return {}``
# is a deliberate "no results" and gets no mark.
NO_RESULT_KEY = "__psweep_returned_none__"

# Suffix of a journal being created (locked, then renamed to its .jnl
# name); backups skip such files.
JOURNAL_NEW_SUFFIX = ".new"

# Suffix of the journals a run writes: ``<_run_id>.jnl2``, records of a
# row's values under its keys written once (see psweep.store._journal_records).
# Journals of earlier drivers (``.jnl``, a row dict per record) are read
# and folded too; those drivers ignore ``.jnl2`` files, so they never take
# such a journal for a damaged one of theirs.
JOURNAL_SUFFIX = ".jnl2"
JOURNAL_SUFFIXES = (".jnl", ".jnl2")


def journal_run_id(path: str) -> str:
    """The ``_run_id`` of the run that writes the journal at `path`.

    Examples
    --------
    >>> from psweep._schema import journal_run_id
    >>> journal_run_id("calc/.psweep/journal/results.pk/ab-12.jnl2")
    'ab-12'
    """
    name = os.path.basename(path)
    for suffix in JOURNAL_SUFFIXES[::-1]:  # the longer first
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def failed_mask(df: Any) -> Any:
    """Which rows of the database `df` are failed psets: ``_failed`` True.

    A row without a value there (hand-written rows, a database of psweep
    0.16 before it is read in our format) is no failure.

    Parameters
    ----------
    df
        A database (``pandas.DataFrame``).

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> import pandas as pd
    >>> from psweep._schema import failed_mask
    >>> failed_mask(pd.DataFrame({"_failed": [True, False, None]})).tolist()
    [True, False, False]
    >>> failed_mask(pd.DataFrame({"a": [1]})).tolist()
    [False]
    """
    if "_failed" not in df.columns:
        return np.zeros(len(df), dtype=bool)
    return df["_failed"].fillna(False).to_numpy(dtype=bool)


def is_bookkeeping(name: Any) -> bool:
    """Whether the column or pset key `name` is bookkeeping (starts with ``_``).

    Parameters
    ----------
    name
        A column name.

    Returns
    -------
    bool

    Examples
    --------
    >>> from psweep._schema import is_bookkeeping
    >>> [is_bookkeeping(c) for c in ["_run_id", "result_", "a"]]
    [True, False, False]
    """
    return str(name).startswith(BOOKKEEPING_PREFIX)


def json_write_options(**kwds: Any) -> dict[str, Any]:
    """Options of :meth:`pandas.DataFrame.to_json` for a database as JSON.

    The defaults of :func:`psweep.df_to_json` and ``df_write(fmt="json")``:
    a list of rows (:data:`PANDAS_DEFAULT_ORIENT`), ISO times in
    :data:`PANDAS_TIME_UNIT`, 15 digits; `kwds` override them.

    Returns
    -------
    dict

    Examples
    --------
    >>> from psweep._schema import json_write_options
    >>> json_write_options(orient="split")["orient"]
    'split'
    """
    options: dict[str, Any] = {
        "orient": PANDAS_DEFAULT_ORIENT,
        "date_format": "iso",
        "date_unit": PANDAS_TIME_UNIT,
        "double_precision": 15,
    }
    options.update(kwds)
    return options
