"""What runs on a worker: call the user's function on psets, return rows.

Everything here is module-level and free of driver state, so it pickles by
reference into process pools (fork, spawn, forkserver) and onto Dask
workers. Workers never touch the database; they return plain row dicts.
"""

from __future__ import annotations

import pickle
import platform
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

__all__ = ["execute_pset", "execute_chunk", "failure_row", "ENGINE_KEYS", "EXC_KEY"]

# Bookkeeping columns the engine owns: a value func returns under one of
# these names is overwritten, so the database stays consistent.
ENGINE_KEYS = (
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

# Key under which a failed row carries the exception object back to the
# driver for on_error="raise"; removed before the row is recorded.
EXC_KEY = "__psweep_exception__"

_HOST = platform.node()


def execute_pset(
    func: Callable[[dict[str, Any]], Any],
    pset: Mapping[str, Any],
    simulate: bool = False,
    keep_exception: bool = False,
) -> dict[str, Any]:
    """Call ``func(pset)`` and build the database row.

    Parameters
    ----------
    func
        The user's function.
    pset
        The planned pset, bookkeeping keys included.
    simulate
        Do not call `func`.
    keep_exception
        On failure, also return the exception object (for
        ``on_error="raise"``).

    Returns
    -------
    dict
        The pset merged with what `func` returned, plus ``_time_utc``,
        ``_exec_host``, ``_pset_runtime``, ``_failed`` and ``_exc_txt``.
    """
    start = time.time()
    t0 = time.perf_counter()
    failed = False
    exc_txt = None
    exception = None
    ret: Any = None
    if not simulate:
        try:
            ret = func(dict(pset))
        except Exception as exc:
            failed = True
            exc_txt = traceback.format_exc()
            exception = exc
    runtime = time.perf_counter() - t0
    # Column order: the pset's own keys, then results, then bookkeeping.
    row = {k: v for k, v in pset.items() if k not in ENGINE_KEYS}
    if not failed:
        if ret is None:
            ret = {}
        if isinstance(ret, Mapping):
            row.update((k, v) for k, v in ret.items() if k not in ENGINE_KEYS)
        else:
            failed = True
            exc_txt = (
                f"TypeError: the function returned a {type(ret).__name__} "
                f"({ret!r:.200}), but psweep expects a dict of results such "
                f"as {{'result': 1.23}} (or None for no results)."
            )
            exception = TypeError(exc_txt)
    for key in ENGINE_KEYS:
        if key in pset:
            row[key] = pset[key]
    row["_time_utc"] = pd.Timestamp(start, unit="s")
    row["_exec_host"] = _HOST
    row["_pset_runtime"] = runtime
    row["_failed"] = failed
    row["_exc_txt"] = exc_txt
    if keep_exception and exception is not None and _pickles(exception):
        row[EXC_KEY] = exception
    return row


def failure_row(pset: Mapping[str, Any], exc_txt: str) -> dict[str, Any]:
    """Row for a pset whose worker never returned (crashed, lost, cancelled).

    Parameters
    ----------
    pset
        The planned pset.
    exc_txt
        What happened, for the ``_exc_txt`` column.

    Returns
    -------
    dict
        The pset with ``_failed=True``.
    """
    row = dict(pset)
    row.update(
        _time_utc=pd.Timestamp(time.time(), unit="s"),
        _exec_host=None,
        _pset_runtime=float("nan"),
        _failed=True,
        _exc_txt=exc_txt,
    )
    return row


def _pickles(obj: Any) -> bool:
    """Whether `obj` can travel back from a worker process."""
    try:
        pickle.dumps(obj)
    except Exception:
        return False
    return True


def execute_chunk(
    func: Callable[[dict[str, Any]], Any],
    psets: list[dict[str, Any]],
    simulate: bool = False,
    keep_exception: bool = False,
) -> list[dict[str, Any]]:
    """:func:`execute_pset` over a chunk of psets, in order.

    With ``keep_exception``, stops after the first failure (the rest of the
    chunk is not run, as in a plain loop).

    Parameters
    ----------
    func
        The user's function.
    psets
        Planned psets.
    simulate
        Do not call `func`.
    keep_exception
        Stop at, and return the exception of, the first failure.

    Returns
    -------
    list of dict
        One row per pset run.
    """
    rows = []
    for pset in psets:
        row = execute_pset(func, pset, simulate, keep_exception)
        rows.append(row)
        if keep_exception and row["_failed"]:
            break
    return rows
