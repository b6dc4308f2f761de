"""The bookkeeping schema: reserved column names, their order, which the engine owns.

One place for what the store, the worker, the run and the frame helpers
agree on (DESIGN.md §3), so none of them reaches into another for it.

Examples
--------
>>> from psweep.schema import ENGINE_KEYS, is_bookkeeping
>>> "_pset_id" in ENGINE_KEYS, is_bookkeeping("_vary"), is_bookkeeping("a")
(True, True, False)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BOOKKEEPING_PREFIX",
    "ENGINE_KEY_ORDER",
    "ENGINE_KEYS",
    "EXC_KEY",
    "NO_RESULT_KEY",
    "JOURNAL_NEW_SUFFIX",
    "is_bookkeeping",
]

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
    >>> from psweep.schema import is_bookkeeping
    >>> [is_bookkeeping(c) for c in ["_run_id", "result_", "a"]]
    [True, False, False]
    """
    return str(name).startswith(BOOKKEEPING_PREFIX)
