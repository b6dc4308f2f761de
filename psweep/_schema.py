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
    "NO_RESULT_KEY",
    "JOURNAL_NEW_SUFFIX",
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

# Key a worker sets in the row of a pset whose function returned None (no
# return statement?), so the driver can say so when every pset did; the
# recorder removes it before the row is stored. An explicit ``return {}``
# is a deliberate "no results" and gets no mark.
NO_RESULT_KEY = "__psweep_returned_none__"

# Suffix of a journal being created (locked, then renamed to its .jnl
# name); backups skip such files.
JOURNAL_NEW_SUFFIX = ".new"


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
