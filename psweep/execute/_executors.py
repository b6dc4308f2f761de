"""Where psets run: serially, or on an executor (a pool of ours or any other).

Rows come back to the driver as soon as a chunk finishes and are handed to
``record`` right away; nothing waits for the end of the run. Chunks adapt
in size (:mod:`psweep.execute._chunks`).
"""

from __future__ import annotations

import concurrent.futures as cf
import pickle
from collections import deque
from collections.abc import Callable
from typing import Any

from psweep.execute._capture import LogsFolder, read_left_behind
from psweep.execute._chunks import PsetQueue, next_chunk_size, update_estimate
from psweep.execute._pools import ExecutorPlan, stop_workers
from psweep.execute._timeouts import Deadlines, pset_bound, timed_out_text
from psweep.errors import PsetTimeoutError
from psweep._schema import EXC_KEY
from psweep.execute._worker import execute_chunk, execute_pset, failure_row

__all__ = ["PsetQueue", "run_serial", "run_with_executor"]

# After Ctrl-C, how long to wait for chunks already running to come back
# (a chunk is ~CHUNK_SECONDS of work) before the workers are stopped.
INTERRUPT_GRACE = 2.0
# With timeout=, how much longer than its psets' timeouts the driver waits
# for a chunk whose worker should have stopped them itself (SIGALRM) before
# it stops that worker: the fallback for code that never sees the signal.
HARD_STOP_GRACE = 5.0
# With timeout= on threads or Dask, workers bound each pset themselves; the
# driver gives up on a chunk (a lost worker) only after twice its psets'
# timeouts (it may wait behind another chunk) plus this.
LOST_WORKER_GRACE = 30.0

Record = Callable[[dict[str, Any]], None]


def run_serial(
    func: Callable[..., Any],
    psets: list[dict[str, Any]],
    worker_options: dict[str, Any],
    record: Record,
) -> None:
    """Run psets one after the other in this process, recording each row.

    Parameters
    ----------
    func
        The user's function.
    psets
        Planned psets.
    worker_options
        Keyword arguments of :func:`~psweep.execute._worker.execute_pset`; with
        ``keep_exception`` the run stops after the first failed pset.
    record
        Called with each row as soon as it exists.
    """
    # Positional arguments: unpacking keywords per pset costs ~15% of
    # execute_pset's own time on a trivial function.
    simulate = worker_options.get("simulate", False)
    keep_exception = worker_options.get("keep_exception", False)
    capture_logs = worker_options.get("capture_logs")
    with LogsFolder(capture_logs, psets), pset_bound(worker_options.get("timeout")) as bound:
        for pset in psets:
            row = execute_pset(func, pset, simulate, keep_exception, capture_logs, True, bound)
            failed = row["_failed"]
            record(row)
            if failed and keep_exception:
                return


def _lost_text(exc: BaseException, n_psets: int) -> str:
    return (
        f"{type(exc).__name__}: {exc}\n(the worker running this chunk of "
        f"{n_psets} psets died or could not send its results back; one of "
        f"them may have crashed the process)"
    )


def _joined(chunk: list[dict[str, Any]], outcomes: list[dict[str, Any]] | bytes) -> list[dict[str, Any]]:
    """Rows of a chunk's psets from what the worker sent back for them
    (:func:`~psweep.execute._worker.execute_chunk`, for the first psets in order).

    The run's planned psets become the rows (updated in place, about half
    the cost of new dicts): a pset whose outcome is back is not sent again.
    """
    if type(outcomes) is bytes:
        outcomes = pickle.loads(outcomes)
    for pset, outcome in zip(chunk, outcomes):
        pset.update(outcome)
    return chunk[: len(outcomes)]


def _lost_row(pset: dict[str, Any], exc_txt: str, capture_logs: str | None) -> dict[str, Any]:
    """Failure row of a pset whose worker died, was stopped or was given up
    on, with what the pset printed until then (``capture_logs``)."""
    row = failure_row(pset, exc_txt)
    if capture_logs in ("db", "db+file"):
        row["_logs"] = read_left_behind(pset, capture_logs)
    return row


def _timed_out_row(
    pset: dict[str, Any], timeout: float, how: str, worker_options: dict[str, Any]
) -> dict[str, Any]:
    """Failure row of a pset the driver ended (or gave up on) at its deadline."""
    text = timed_out_text(timeout, how)
    row = _lost_row(pset, text, worker_options.get("capture_logs"))
    if worker_options.get("keep_exception"):  # on_error="raise"
        row[EXC_KEY] = PsetTimeoutError(text)
    return row


_REPLACED = "its worker did not stop at SIGALRM and was replaced"


def _given_up_text(plan: ExecutorPlan) -> str:
    """How a pset was left whose chunk the driver gave up on, on an
    executor psweep cannot stop."""
    if plan.processes:
        return "its worker did not stop at SIGALRM, and the pool was passed in, so psweep did not stop it"
    return (
        "its chunk was still not back long after its psets' timeouts (the worker "
        "may be lost), so psweep cancelled its future"
    )


def run_with_executor(
    plan: ExecutorPlan,
    psets: list[dict[str, Any]],
    worker_options: dict[str, Any],
    record: Record,
    chunksize: int | None = None,
) -> None:
    """Run psets on `plan.executor`, recording rows as chunks complete.

    Parameters
    ----------
    plan
        The executor and what to send it.
    psets
        Planned psets.
    worker_options
        Keyword arguments of :func:`~psweep.execute._worker.execute_chunk`; with
        ``keep_exception`` nothing more is submitted after a failure.
    record
        Called with each row as soon as it reaches the driver.
    chunksize
        Fixed chunk size; None adapts it.

    Notes
    -----
    When a worker dies (``BrokenProcessPool``), a pool we own is replaced,
    the psets lost with it are retried one by one, and only a pset that
    kills its worker again becomes a failure row, with what the pset
    printed until then (``capture_logs``). Only a bounded number of chunks
    is in flight, so the driver holds little memory. However the run ends,
    no worker of a pool psweep started outlives it (see :func:`~psweep.execute._pools.stop_workers`).
    """
    queue = PsetQueue(psets)  # builds each pset only when it is sent
    # Psets of chunks lost with a broken pool: each is retried alone, one
    # at a time, so only a pset that crashes its worker again is failed.
    suspects: deque[dict[str, Any]] = deque()
    suspect_ids: set[str] = set()
    in_flight: dict[cf.Future[Any], tuple[list[dict[str, Any]], cf.Executor]] = {}
    per_pset: float | None = None
    stop = False
    stop_on_failure = bool(worker_options.get("keep_exception"))
    # timeout=: workers stop a pset themselves at its timeout, counted from
    # its own start (psweep.execute._timeouts). The driver's deadline per chunk is a
    # fallback: it stops a process of our pool that never saw SIGALRM, and
    # gives up on a chunk on threads or Dask only when its worker is lost.
    timeout = worker_options.get("timeout")
    capture_logs = worker_options.get("capture_logs")
    if plan.processes:
        deadlines = Deadlines(timeout, HARD_STOP_GRACE)
    else:
        deadlines = Deadlines(timeout, LOST_WORKER_GRACE, factor=2.0)
    max_in_flight = plan.workers if timeout is not None else 2 * plan.workers
    timed_out: set[str] = set()  # psets whose worker psweep stopped for it
    logs: LogsFolder | None = None
    completed = False
    try:
        logs = LogsFolder(capture_logs, psets)
        while queue or suspects or in_flight:
            while (queue or suspects) and not stop and len(in_flight) < max_in_flight:
                if suspects:
                    if any(c[0]["_pset_id"] in suspect_ids for c, _ in in_flight.values()):
                        break
                    chunk = [suspects.popleft()]
                else:
                    size = chunksize or next_chunk_size(per_pset, len(queue), plan.workers)
                    chunk = [queue.popleft() for _ in range(min(size, len(queue)))]
                try:
                    fut = plan.executor.submit(
                        execute_chunk,
                        plan.payload,
                        chunk,
                        **worker_options,
                        pickled=plan.pickled,
                        driver_pid=plan.driver_pid,
                    )
                except cf.BrokenExecutor:
                    if plan.make is None:
                        raise
                    # A worker died and broke the pool before any of its
                    # futures came back: the chunk never ran; retry it on a
                    # fresh pool (the futures of the old one fail as lost).
                    (suspects if chunk[0]["_pset_id"] in suspect_ids else queue).extendleft(
                        reversed(chunk)
                    )
                    stop_workers(plan.executor)
                    plan.executor = plan.make()
                    continue
                in_flight[fut] = (chunk, plan.executor)
                deadlines.add(fut, len(chunk))
            if not in_flight:
                break
            done, _ = cf.wait(in_flight, timeout=deadlines.seconds_left(), return_when=cf.FIRST_COMPLETED)
            for fut in done:
                chunk, executor = in_flight.pop(fut)
                deadlines.discard(fut)
                try:
                    rows = _joined(chunk, fut.result())
                except Exception as exc:
                    # A pool psweep stopped also cancels futures not yet running.
                    lost = isinstance(exc, (cf.BrokenExecutor, cf.CancelledError))
                    broken = lost and plan.make is not None
                    if broken and executor is plan.executor:
                        stop_workers(executor)
                        plan.executor = plan.make()
                    retry = [
                        p for p in chunk if p["_pset_id"] not in suspect_ids | timed_out
                    ] if broken else []
                    suspects.extend(retry)
                    suspect_ids.update(p["_pset_id"] for p in retry)
                    retry_ids = {p["_pset_id"] for p in retry}
                    rows = [
                        _timed_out_row(pset, timeout, _REPLACED, worker_options)
                        if pset["_pset_id"] in timed_out
                        else _lost_row(pset, _lost_text(exc, len(chunk)), capture_logs)
                        for pset in chunk
                        if pset["_pset_id"] not in retry_ids
                    ]
                for row in rows:
                    stop = stop or (stop_on_failure and row["_failed"])
                    record(row)
                if rows:
                    per_pset = update_estimate(per_pset, rows)
            for fut in deadlines.expired():
                chunk, executor = in_flight[fut]
                if plan.make is not None:
                    # Our pool: stop its workers and start a fresh one; the
                    # chunks lost with it come back broken and are retried
                    # alone, and a pset that was alone is the one that hung.
                    if len(chunk) == 1:
                        timed_out.add(chunk[0]["_pset_id"])
                    if executor is plan.executor:
                        stop_workers(executor)
                        plan.executor = plan.make()
                    continue
                del in_flight[fut]
                fut.cancel()
                for pset in chunk:
                    row = _timed_out_row(pset, timeout, _given_up_text(plan), worker_options)
                    stop = stop or stop_on_failure
                    record(row)
        completed = True
    except KeyboardInterrupt:
        # Stop submitting; give chunks already out a short grace to come
        # back (they are ~CHUNK_SECONDS of work) and keep them; cancel the
        # rest. A second Ctrl-C during the grace ends it at once.
        done, _ = cf.wait(in_flight, timeout=INTERRUPT_GRACE)
        for fut in done:
            if not fut.cancelled() and fut.exception() is None:
                for row in _joined(in_flight[fut][0], fut.result()):
                    record(row)
        raise
    finally:
        for fut in in_flight:
            fut.cancel()
        if plan.make is not None:
            # Every chunk back: the workers are idle and end at once. Else
            # (Ctrl-C, an error) running psets are not waited for.
            stop_workers(plan.executor, graceful=completed)
        if logs is not None:
            logs.remove()
