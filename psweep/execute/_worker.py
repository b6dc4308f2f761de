"""What runs on a worker: call the user's function on psets, return rows.

Everything here is module-level and free of driver state, so it pickles by
reference into process pools (fork, spawn, forkserver) and onto Dask
workers. Workers never touch the database; they return plain dicts: whole
rows in the driver's own loop, and from pools only the results and timing
or failure they add to each pset (the driver, which has the pset, joins them).
"""

from __future__ import annotations

import pickle
import platform
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from psweep.execute._capture import CAPTURE_MODES, captured
from psweep.errors import PsetTimeoutError, PsweepError
from psweep.execute._lifeline import watch_driver
from psweep._schema import ENGINE_KEYS, EXC_KEY, MAIN_CLASS_KEY, NO_RESULT_KEY
from psweep.execute._timeouts import Alarm, BoundCall, pset_bound, timed_out_text

__all__ = [
    "execute_pset",
    "execute_chunk",
    "failure_row",
    "make_storable",
    "CAPTURE_MODES",
]

# Modules whose classes other processes cannot import: a result that is an
# instance of one is told to the driver under MAIN_CLASS_KEY, which warns
# once per run and removes the key.
_MAIN_MODULES = frozenset({"__main__", "__mp_main__"})
# Types of result values known not to come from a __main__ module: the
# check costs one set operation per row once a study's types are known.
_CHECKED_TYPES: set[type] = {int, float, str, bool, bytes, complex, type(None)}

_HOST = platform.node()
_now = time.time
_clock = time.perf_counter


def _call(
    func: Callable[[dict[str, Any]], Any], pset: Mapping[str, Any], bound: BoundCall | None
) -> tuple[Any, Any, Any]:
    """``func(copy of pset)``: (returned value, exception or None, traceback text or None).

    The copy also has ``_exec_host``, as in psweep 0.16. With `bound` (from
    :func:`~psweep.execute._timeouts.pset_bound`), the call is ``bound(func, copy)``,
    which stops waiting for it past the timeout.
    """
    try:
        if bound is None:
            return func(dict(pset, _exec_host=_HOST)), None, None
        return bound(func, dict(pset, _exec_host=_HOST)), None, None
    except Alarm as alarm:
        return None, *_timed_out(alarm, bound)
    except (Exception, SystemExit) as exc:
        return None, exc, _failure_text(exc)


def _timed_out(alarm: Alarm, bound: BoundCall | None) -> tuple[PsetTimeoutError, str]:
    """The exception and ``_exc_txt`` of a pset stopped at its timeout."""
    timeout = bound.seconds if bound is not None else 0.0
    if alarm.where is None:  # SIGALRM interrupted it here
        text = timed_out_text(timeout)
        where = traceback.format_exc().rstrip().rsplit("\n", 1)[0]  # without the Alarm line
    else:
        text = timed_out_text(timeout, _RUNS_ON)
        where = alarm.where.rstrip()
    return PsetTimeoutError(text), f"{where}\npsweep.errors.{text}\n"


_RUNS_ON = "it runs on in a thread of its own until the function returns (a thread cannot be stopped)"


def _failure_text(exc: BaseException) -> str:
    """``_exc_txt`` of a pset that raised `exc` (being handled)."""
    text = traceback.format_exc()
    if isinstance(exc, SystemExit):
        # sys.exit() in a pset ends that pset, not the study.
        text += (
            f"psweep: the function raised SystemExit (exit code {exc.code!r}), e.g. "
            f"by calling sys.exit(); psweep recorded the pset as failed.\n"
        )
    return text


def execute_pset(
    func: Callable[[dict[str, Any]], Any],
    pset: Mapping[str, Any],
    simulate: bool = False,
    keep_exception: bool = False,
    capture_logs: str | None = None,
    whole_row: bool = True,
    bound: BoundCall | None = None,
    in_place: bool = False,
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
    capture_logs
        None, ``"db"`` (output to the ``_logs`` column), ``"file"``
        (to ``<_calc_dir>/<_pset_id>/logs.txt``) or ``"db+file"``.
    whole_row
        False leaves the pset's own keys out of the returned dict (a pool
        worker sends less back; the driver, which has the pset, joins them
        as ``{**pset, **returned}``).
    bound
        How to call `func` within the run's ``timeout=``, from
        :func:`~psweep.execute._timeouts.pset_bound` (None: no limit).
    in_place
        Build the row in `pset` itself and return it (the caller made
        `pset` for this call and no longer needs it as it was): one dict
        fewer per pset on the serial path. `func` still gets a copy.

    Returns
    -------
    dict
        The pset merged with what `func` returned, plus ``_time_utc``,
        ``_exec_host``, ``_pset_runtime``, ``_failed`` and ``_exc_txt``.
        A function that raises, or ends with ``sys.exit()``, gives a
        failed row; Ctrl-C (``KeyboardInterrupt``) is raised on.
    """
    start = _now()
    t0 = _clock()
    ret = exception = exc_txt = None
    logs: list[str] | None = None
    if simulate:
        pass
    elif capture_logs:
        with captured(pset, capture_logs) as logs:
            ret, exception, exc_txt = _call(func, pset, bound)
    elif bound is not None:
        ret, exception, exc_txt = _call(func, pset, bound)
    else:  # _call inlined: a trivial pset spends a noticeable share on calls
        try:
            ret = func(dict(pset, _exec_host=_HOST))
        except (Exception, SystemExit) as exc:
            exception, exc_txt = exc, _failure_text(exc)
    runtime = _clock() - t0
    returned_none = False
    if type(ret) is not dict or not ENGINE_KEYS.isdisjoint(ret):
        returned_none = ret is None and exception is None and not simulate
        if exception is None and isinstance(ret, Mapping) and ret.get("_failed") is True:
            # func caught its own error and said so (psweep 0.16's safe_func).
            exc_txt = ret.get("_exc_txt") or "the function returned _failed=True"
            exception = PsweepError(f"the function returned _failed=True:\n{exc_txt}")
        ret, error = _results(ret)
        if error is not None:
            exception, exc_txt = TypeError(error), error
    for value in ret.values():  # a loop: a few values, no set built per row
        if type(value) not in _CHECKED_TYPES:
            found = _main_class(ret)
            if found is not None:
                ret = {**ret, MAIN_CLASS_KEY: found}
            break
    # _time_utc: seconds since the epoch while in transit (a float pickles
    # ~6x faster than a Timestamp); dbfile.rows_to_frame makes datetimes.
    # In place, or new: either way the keys' order of {**pset, **ret, ...}.
    row: dict[str, Any] = pset if in_place else {**pset} if whole_row else {}  # type: ignore[assignment]
    row.update(ret)
    row["_time_utc"] = start
    row["_exec_host"] = _HOST
    row["_pset_runtime"] = runtime
    row["_failed"] = exception is not None
    row["_exc_txt"] = exc_txt
    if capture_logs in ("db", "db+file"):
        row["_logs"] = logs[0] if logs else None
    if returned_none:
        row[NO_RESULT_KEY] = True
    if keep_exception and exception is not None and _pickles(exception):
        row[EXC_KEY] = exception
    return row


def _main_class(ret: Mapping[str, Any]) -> tuple[str, str] | None:
    """(key, class name) of a result whose class is defined in ``__main__``."""
    for key, value in ret.items():
        cls = type(value)
        if cls.__module__ in _MAIN_MODULES:
            return key, cls.__qualname__
        _CHECKED_TYPES.add(cls)
    return None


def _results(ret: Any) -> tuple[dict[str, Any], str | None]:
    """What a function returned as results, and an error text if unusable.

    A mapping gives its items except bookkeeping keys (those stay the
    engine's); None gives no results; anything else is an error.
    """
    if isinstance(ret, Mapping):
        return {k: v for k, v in ret.items() if k not in ENGINE_KEYS}, None
    if ret is None:
        return {}, None
    return {}, (
        f"TypeError: the function returned a {type(ret).__name__} "
        f"({ret!r:.200}), but psweep expects a dict of results such "
        f"as {{'result': 1.23}} (or None for no results)."
    )


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
        _time_utc=time.time(),
        _exec_host=None,
        _pset_runtime=float("nan"),
        _failed=True,
        _exc_txt=exc_txt,
    )
    return row


def _pickles(obj: Any) -> bool:
    """Whether `obj` can travel back from a worker process."""
    return _pickle_error(obj) is None


def _pickle_error(obj: Any) -> Exception | None:
    """The exception pickling `obj` raises, or None if it pickles."""
    try:
        pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        return exc
    return None


# Types that always pickle: what a row keeps when no single value is to blame.
_PLAIN = (int, float, complex, str, bytes, bool, type(None))


def make_storable(
    row: dict[str, Any], exc: BaseException, pset: Mapping[str, Any] | None = None
) -> None:
    """Turn a row that cannot be pickled into a failed row that can, in place.

    The values that do not pickle are dropped (the others are kept), and
    ``_exc_txt`` names their keys and types and says what to do instead.

    Parameters
    ----------
    row
        A row (or what a pool worker sends back for a pset) that failed to
        pickle.
    exc
        The error pickling it raised.
    pset
        The planned pset, if `row` lacks its ``_calc_dir`` and ``_pset_id``.

    Examples
    --------
    >>> import threading
    >>> from psweep.execute._worker import make_storable
    >>> row = {"x": 1, "lock_": threading.Lock(), "y_": 2, "_failed": False}
    >>> make_storable(row, TypeError("cannot pickle '_thread.lock' object"))
    >>> row["_failed"], "lock_" in row, row["y_"]
    (True, False, 2)
    """
    bad = {k: v for k, v in row.items() if k != EXC_KEY and _pickle_error(v) is not None}
    if not bad:  # the values pickle one by one but not together: keep plain ones
        bad = {k: v for k, v in row.items() if k not in ENGINE_KEYS and not isinstance(v, _PLAIN)}
    where = pset if pset is not None else row
    folder = f"{where.get('_calc_dir', '<_calc_dir>')}/{where.get('_pset_id', '<_pset_id>')}/"
    described = ", ".join(f"{k!r} ({type(v).__module__}.{type(v).__qualname__})" for k, v in bad.items())
    for key in bad:
        del row[key]
    row.pop(EXC_KEY, None)
    row["_failed"] = True
    row["_exc_txt"] = (
        f"ResultPickleError: the result {described} cannot be pickled, so psweep "
        f"cannot store it ({type(exc).__name__}: {exc}). The pset's other results "
        f"are kept. Fix: return plain data: numbers, strings, arrays, or write "
        f"the object to `<_calc_dir>/<_pset_id>/` (here {folder}) and return its "
        f"file name."
    )


class _SystemExitInTransit(SystemExit):
    """A pset's SystemExit on its way back to the driver, where it unpickles
    as a plain SystemExit with its exit code. (tblib, which Dask installs as
    the pickler of every exception, loses the code of a plain one: a script
    ending with it would exit with status 0.)"""

    def __reduce__(self) -> tuple[type[SystemExit], tuple[Any, ...]]:
        return SystemExit, self.args


def execute_chunk(
    func: Callable[[dict[str, Any]], Any],
    psets: list[dict[str, Any]],
    simulate: bool = False,
    keep_exception: bool = False,
    capture_logs: str | None = None,
    pickled: bool = False,
    driver_pid: int | None = None,
    timeout: float | None = None,
) -> list[dict[str, Any]] | bytes:
    """:func:`execute_pset` over a chunk of psets, in order, for a pool.

    Returns per pset only what the worker adds (results and bookkeeping),
    not the pset's own keys, which the driver has: less to pickle back.
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
    capture_logs
        As for :func:`execute_pset`.
    pickled
        Return the list pickled. A pset whose results do not pickle then
        fails alone (:func:`make_storable`), instead of the whole chunk
        failing to travel back; costs nothing extra when all pickle (the
        executor sends the bytes as they are).
    driver_pid
        The driver's process id: this worker process ends soon after the
        driver is gone (:func:`psweep.execute._lifeline.watch_driver`).
    timeout
        Seconds per pset, from each pset's own start (see
        :func:`~psweep.execute._timeouts.pset_bound`), or None.

    Returns
    -------
    list of dict, or its pickle
        For the first psets of the chunk, in order (all of them unless it
        stopped early), ``execute_pset(..., whole_row=False)``; the row of
        ``psets[i]`` is ``{**psets[i], **returned[i]}``.
    """
    if driver_pid is not None:
        watch_driver(driver_pid)
    outcomes = []
    with pset_bound(timeout) as bound:
        for pset in psets:
            try:
                outcome = execute_pset(
                    func, pset, simulate, keep_exception, capture_logs, whole_row=False, bound=bound
                )
            except KeyboardInterrupt:
                # In a thread or Dask worker: return what finished, drop the rest.
                break
            outcomes.append(outcome)
            if keep_exception and outcome["_failed"]:
                if pickled and type(outcome.get(EXC_KEY)) is SystemExit:
                    outcome[EXC_KEY] = _SystemExitInTransit(*outcome[EXC_KEY].args)
                break
    if not pickled:
        return outcomes
    try:
        return pickle.dumps(outcomes, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        # Only now look for the culprits: one pickle per pset.
        for pset, outcome in zip(psets, outcomes):
            error = _pickle_error(outcome)
            if error is not None:
                make_storable(outcome, error, pset)
        return pickle.dumps(outcomes, protocol=pickle.HIGHEST_PROTOCOL)
