"""Where psets run: serially, in a local process pool, or on any executor.

Rows come back to the driver as soon as a chunk finishes and are handed to
``record`` right away; nothing waits for the end of the run. Chunks adapt
in size so that each takes about ``CHUNK_SECONDS`` of work: big enough that
tiny psets don't drown in inter-process overhead, small enough that
finished rows reach the driver (and the disk) quickly.
"""

from __future__ import annotations

import concurrent.futures as cf
import inspect
import os
import pickle
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from psweep.execute._capture import LogsFolder, read_left_behind
from psweep.execute._lifeline import init_pool_worker
from psweep.execute._probe import pickled_function, probe_pool
from psweep.execute._timeouts import Deadlines, pset_bound, timed_out_text
from psweep.errors import PsetTimeoutError
from psweep._schema import EXC_KEY
from psweep.execute._worker import execute_chunk, execute_pset, failure_row

__all__ = ["ExecutorPlan", "PsetQueue", "resolve_executor", "run_serial", "run_with_executor"]

CHUNK_SECONDS = 0.2
MAX_CHUNK = 10_000
# After Ctrl-C, how long to wait for chunks already running to come back
# (a chunk is ~CHUNK_SECONDS of work) before the workers are stopped.
INTERRUPT_GRACE = 2.0
# How long to wait for a broken pool's threads to end before starting its
# replacement (they end once its stopped workers are reaped: milliseconds).
POOL_THREADS_TIMEOUT = 10.0
# With timeout=, how much longer than its psets' timeouts the driver waits
# for a chunk whose worker should have stopped them itself (SIGALRM) before
# it stops that worker: the fallback for code that never sees the signal.
HARD_STOP_GRACE = 5.0
# With timeout= on threads or Dask, workers bound each pset themselves; the
# driver gives up on a chunk (a lost worker) only after twice its psets'
# timeouts (it may wait behind another chunk) plus this.
LOST_WORKER_GRACE = 30.0
# Seconds a worker process of our pool gets to end after being asked (the
# pool's shutdown, then SIGTERM) before the next step (SIGTERM, SIGKILL): a
# pset that defers SIGTERM (a checkpoint handler) or a thread that never
# ends must not keep the driver from exiting.
STOP_GRACE = 3.0

Record = Callable[[dict[str, Any]], None]


class PsetQueue:
    """Psets waiting to be sent to workers, taken lazily from a sequence.

    Like a ``collections.deque`` of `psets` (``popleft``, ``extendleft``,
    ``len``), but a pset is built only when it is taken, so a run of a
    million psets does not hold a million dicts at once.

    Parameters
    ----------
    psets
        The planned psets.
    """

    def __init__(self, psets: Sequence[dict[str, Any]]) -> None:
        self._next = iter(psets)
        self._left = len(psets)
        self._returned: deque[dict[str, Any]] = deque()

    def __len__(self) -> int:
        return self._left

    def popleft(self) -> dict[str, Any]:
        """The next pset."""
        if not self._left:
            raise IndexError("pop from an empty PsetQueue")
        self._left -= 1
        return self._returned.popleft() if self._returned else next(self._next)

    def extendleft(self, psets: Iterable[dict[str, Any]]) -> None:
        """Put psets back in front (like ``deque.extendleft``: reversed)."""
        psets = list(psets)
        self._returned.extendleft(psets)
        self._left += len(psets)


class ExecutorPlan:
    """An executor, the function to send to it, and how to treat it.

    Parameters
    ----------
    executor
        A ``concurrent.futures.Executor``.
    payload
        The function as it is sent to workers.
    workers
        How many psets it runs at once.
    make
        Callable creating a fresh executor when we own it (so a broken
        pool can be replaced), else None.
    """

    def __init__(
        self,
        executor: cf.Executor,
        payload: Callable[..., Any],
        workers: int,
        make: Callable[[], cf.Executor] | None,
    ) -> None:
        self.executor = executor
        self.payload = payload
        self.workers = max(1, workers)
        self.make = make
        # Results cross a process boundary: workers pickle them themselves,
        # so that a result that does not pickle fails its pset only.
        self.pickled = not isinstance(executor, cf.ThreadPoolExecutor)
        # Psets run on the main thread of worker processes: SIGALRM can
        # stop one past its timeout there (not in threads, as on Dask).
        self.processes = isinstance(executor, cf.ProcessPoolExecutor)
        # Workers of a user's process pool watch this driver from their
        # first chunk on (psweep's own pools do from their start).
        self.driver_pid = os.getpid() if self.processes else None


def _stop_workers(executor: cf.Executor, graceful: bool = False) -> None:
    """Stop a process pool we own; its workers are gone on return.

    Running psets are not waited for: the workers get SIGTERM, and SIGKILL
    if they are still there :data:`STOP_GRACE` seconds later. With
    `graceful` (the end of a run, every chunk back), idle workers first get
    the pool's own shutdown and that long to end. Then the pool's thread is
    joined (briefly), so that a new pool may fork safely (forking while it
    runs may deadlock the child; Python >= 3.12 warns about it).
    """
    manager = getattr(executor, "_executor_manager_thread", None)
    processes = list((getattr(executor, "_processes", None) or {}).values())
    if graceful:
        executor.shutdown(wait=False, cancel_futures=True)
        processes = _still_running(processes, STOP_GRACE)
    for process in processes:
        process.terminate()
    executor.shutdown(wait=False, cancel_futures=True)
    for process in _still_running(processes, STOP_GRACE):
        process.kill()  # it caught or deferred SIGTERM
    _still_running(processes, STOP_GRACE)
    if manager is not None:
        manager.join(timeout=POOL_THREADS_TIMEOUT)


def _still_running(processes: list[Any], timeout: float) -> list[Any]:
    """Wait up to `timeout` seconds in all for `processes` to end; those that did not."""
    deadline = time.monotonic() + timeout
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    return [process for process in processes if process.exitcode is None]


def _is_dask_client(obj: Any) -> bool:
    return type(obj).__module__.startswith("distributed") and hasattr(obj, "get_executor")


def resolve_executor(func: Any, poolsize: int | None, executor: Any) -> ExecutorPlan | None:
    """Turn run()'s `poolsize`/`executor` into an :class:`ExecutorPlan`.

    Parameters
    ----------
    func
        The user's function (plain or decorated).
    poolsize
        Local processes to start, or None.
    executor
        A ``concurrent.futures.Executor``, a ``dask.distributed.Client``,
        or None.

    Returns
    -------
    ExecutorPlan or None
        None means: run serially in this process.

    Raises
    ------
    SweepPickleError
        If `func` cannot travel to worker processes, or a probe shows that
        a worker cannot load it; before any pset runs.
    TypeError
        If `executor` is of an unknown kind.
    """
    if executor is None and poolsize is None:
        return None
    if executor is None:
        data = pickled_function(func)

        def make() -> cf.Executor:
            return cf.ProcessPoolExecutor(
                max_workers=poolsize, initializer=init_pool_worker, initargs=(os.getpid(),)
            )

        pool = make()
        try:
            probe_pool(pool, data, func)
        except BaseException:
            _stop_workers(pool)
            raise
        return ExecutorPlan(pool, func, int(poolsize or 1), make)
    if _is_dask_client(executor):
        # cloudpickle ships the raw function by value where a wrapt proxy
        # defined in __main__ could not be found by reference on a worker.
        workers = sum(executor.nthreads().values()) or 1
        return ExecutorPlan(executor.get_executor(), inspect.unwrap(func), workers, None)
    if isinstance(executor, cf.Executor):
        if isinstance(executor, cf.ProcessPoolExecutor):
            probe_pool(executor, pickled_function(func), func)
        workers = getattr(executor, "_max_workers", None) or os.cpu_count() or 1
        return ExecutorPlan(executor, func, workers, None)
    raise TypeError(
        f"executor is a {type(executor).__name__}; pass a "
        f"concurrent.futures.Executor (e.g. ProcessPoolExecutor) or a "
        f"dask.distributed.Client."
    )


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


def _next_chunk_size(per_pset: float | None, remaining: int, workers: int) -> int:
    """Psets for the next chunk: ~CHUNK_SECONDS of work, balanced at the end."""
    if per_pset is None:
        return 1
    size = int(CHUNK_SECONDS / per_pset) if per_pset > 0 else MAX_CHUNK
    balanced = -(-remaining // (2 * workers))
    return max(1, min(size, balanced, MAX_CHUNK))


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


def _update_estimate(per_pset: float | None, rows: list[dict[str, Any]]) -> float | None:
    """Running estimate of seconds per pset from a finished chunk."""
    runtimes = [r["_pset_runtime"] for r in rows if r["_pset_runtime"] == r["_pset_runtime"]]
    if not runtimes:
        return per_pset
    estimate = max(sum(runtimes) / len(runtimes), 1e-7)
    return estimate if per_pset is None else 0.5 * (per_pset + estimate)


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
    no worker of a pool psweep started outlives it (see :func:`_stop_workers`).
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
                    size = chunksize or _next_chunk_size(per_pset, len(queue), plan.workers)
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
                    _stop_workers(plan.executor)
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
                        _stop_workers(executor)
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
                    per_pset = _update_estimate(per_pset, rows)
            for fut in deadlines.expired():
                chunk, executor = in_flight[fut]
                if plan.make is not None:
                    # Our pool: stop its workers and start a fresh one; the
                    # chunks lost with it come back broken and are retried
                    # alone, and a pset that was alone is the one that hung.
                    if len(chunk) == 1:
                        timed_out.add(chunk[0]["_pset_id"])
                    if executor is plan.executor:
                        _stop_workers(executor)
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
            _stop_workers(plan.executor, graceful=completed)
        if logs is not None:
            logs.remove()
