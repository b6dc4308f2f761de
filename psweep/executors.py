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
import signal
from collections import deque
from collections.abc import Callable
from typing import Any

from psweep.errors import SweepPickleError
from psweep.plan import PsetQueue
from psweep.worker import execute_chunk, execute_pset, failure_row

__all__ = ["ExecutorPlan", "resolve_executor", "run_serial", "run_with_executor"]

CHUNK_SECONDS = 0.2
MAX_CHUNK = 10_000
# After Ctrl-C, how long to wait for chunks already running to come back
# (a chunk is ~CHUNK_SECONDS of work) before the workers are stopped.
INTERRUPT_GRACE = 2.0
# How long to wait for a broken pool's threads to end before starting its
# replacement (they end once its stopped workers are reaped: milliseconds).
POOL_THREADS_TIMEOUT = 10.0

Record = Callable[[dict[str, Any]], None]


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


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; only the driver acts on it
    # (records what finished, stops the pool), so workers print no tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop_workers(executor: cf.Executor, join_threads: bool = False) -> None:
    """Stop a process pool we own without waiting for running psets.

    With `join_threads`, also wait (briefly) until the pool's own threads
    end, before a new pool forks: forking while they run may deadlock the
    child (Python >= 3.12 warns about it).
    """
    manager = getattr(executor, "_executor_manager_thread", None)
    terminate = getattr(executor, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
    else:
        for process in list((getattr(executor, "_processes", None) or {}).values()):
            process.terminate()
        executor.shutdown(wait=False, cancel_futures=True)
    if join_threads and manager is not None:
        manager.join(timeout=POOL_THREADS_TIMEOUT)


def _is_dask_client(obj: Any) -> bool:
    return type(obj).__module__.startswith("distributed") and hasattr(obj, "get_executor")


def check_picklable(func: Any) -> None:
    """Raise a clear error if `func` cannot be sent to worker processes.

    Parameters
    ----------
    func
        The function to send.

    Raises
    ------
    SweepPickleError
        If pickling fails; the message says to define it at module level.
    """
    try:
        pickle.dumps(func)
    except SweepPickleError:
        raise
    except Exception as exc:
        name = getattr(func, "__qualname__", repr(func))
        raise SweepPickleError(
            f"cannot send {name!r} to worker processes: {exc}. Define the "
            f"function at the top level of a module (not inside another "
            f"function or under 'if __name__ == \"__main__\":'), so workers "
            f"can import it."
        ) from exc


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
        If `func` cannot travel to worker processes.
    TypeError
        If `executor` is of an unknown kind.
    """
    if executor is None and poolsize is None:
        return None
    if executor is None:
        check_picklable(func)

        def make() -> cf.Executor:
            return cf.ProcessPoolExecutor(max_workers=poolsize, initializer=_ignore_sigint)

        return ExecutorPlan(make(), func, int(poolsize or 1), make)
    if _is_dask_client(executor):
        # cloudpickle ships the raw function by value where a wrapt proxy
        # defined in __main__ could not be found by reference on a worker.
        workers = sum(executor.nthreads().values()) or 1
        return ExecutorPlan(executor.get_executor(), inspect.unwrap(func), workers, None)
    if isinstance(executor, cf.Executor):
        if isinstance(executor, cf.ProcessPoolExecutor):
            check_picklable(func)
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
        Keyword arguments of :func:`~psweep.worker.execute_pset`; with
        ``keep_exception`` the run stops after the first failed pset.
    record
        Called with each row as soon as it exists.
    """
    # Positional arguments: unpacking keywords per pset costs ~15% of
    # execute_pset's own time on a trivial function.
    simulate = worker_options.get("simulate", False)
    keep_exception = worker_options.get("keep_exception", False)
    capture_logs = worker_options.get("capture_logs")
    for pset in psets:
        row = execute_pset(func, pset, simulate, keep_exception, capture_logs)
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


def _joined(chunk: list[dict[str, Any]], outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of a chunk's psets from what the worker sent back for them
    (:func:`~psweep.worker.execute_chunk`, for the first psets in order).

    The run's planned psets become the rows (updated in place, about half
    the cost of new dicts): a pset whose outcome is back is not sent again.
    """
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
        Keyword arguments of :func:`~psweep.worker.execute_chunk`; with
        ``keep_exception`` nothing more is submitted after a failure.
    record
        Called with each row as soon as it reaches the driver.
    chunksize
        Fixed chunk size; None adapts it.

    Notes
    -----
    When a worker dies (``BrokenProcessPool``), a pool we own is replaced,
    the psets lost with it are retried one by one, and only a pset that
    kills its worker again becomes a failure row. Only a bounded number of
    chunks is in flight, so the driver holds little memory.
    """
    queue = PsetQueue(psets)  # builds each pset only when it is sent
    # Psets of chunks lost with a broken pool: each is retried alone, one
    # at a time, so only a pset that crashes its worker again is failed.
    suspects: deque[dict[str, Any]] = deque()
    suspect_ids: set[str] = set()
    in_flight: dict[cf.Future[list[dict[str, Any]]], tuple[list[dict[str, Any]], cf.Executor]] = {}
    per_pset: float | None = None
    stop = False
    stop_on_failure = bool(worker_options.get("keep_exception"))
    interrupted = False
    try:
        while queue or suspects or in_flight:
            while (queue or suspects) and not stop and len(in_flight) < 2 * plan.workers:
                if suspects:
                    if any(c[0]["_pset_id"] in suspect_ids for c, _ in in_flight.values()):
                        break
                    chunk = [suspects.popleft()]
                else:
                    size = chunksize or _next_chunk_size(per_pset, len(queue), plan.workers)
                    chunk = [queue.popleft() for _ in range(min(size, len(queue)))]
                try:
                    fut = plan.executor.submit(execute_chunk, plan.payload, chunk, **worker_options)
                except cf.BrokenExecutor:
                    if plan.make is None:
                        raise
                    # A worker died and broke the pool before any of its
                    # futures came back: the chunk never ran; retry it on a
                    # fresh pool (the futures of the old one fail as lost).
                    (suspects if chunk[0]["_pset_id"] in suspect_ids else queue).extendleft(
                        reversed(chunk)
                    )
                    _stop_workers(plan.executor, join_threads=True)
                    plan.executor = plan.make()
                    continue
                in_flight[fut] = (chunk, plan.executor)
            if not in_flight:
                break
            done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                chunk, executor = in_flight.pop(fut)
                try:
                    rows = _joined(chunk, fut.result())
                except Exception as exc:
                    broken = isinstance(exc, cf.BrokenExecutor) and plan.make is not None
                    if broken and executor is plan.executor:
                        _stop_workers(executor, join_threads=True)
                        plan.executor = plan.make()
                    retry = [p for p in chunk if p["_pset_id"] not in suspect_ids] if broken else []
                    suspects.extend(retry)
                    suspect_ids.update(p["_pset_id"] for p in retry)
                    rows = [
                        failure_row(pset, _lost_text(exc, len(chunk)))
                        for pset in chunk
                        if pset["_pset_id"] not in {p["_pset_id"] for p in retry}
                    ]
                for row in rows:
                    stop = stop or (stop_on_failure and row["_failed"])
                    record(row)
                if rows:
                    per_pset = _update_estimate(per_pset, rows)
    except KeyboardInterrupt:
        # Stop submitting; give chunks already out a short grace to come
        # back (they are ~CHUNK_SECONDS of work) and keep them; cancel the
        # rest. A second Ctrl-C during the grace ends it at once.
        interrupted = True
        done, _ = cf.wait(in_flight, timeout=INTERRUPT_GRACE)
        for fut in done:
            if not fut.cancelled() and fut.exception() is None:
                for row in _joined(in_flight[fut][0], fut.result()):
                    record(row)
        raise
    finally:
        for fut in in_flight:
            fut.cancel()
        if plan.make is not None and interrupted:
            _stop_workers(plan.executor)
        elif plan.make is not None:
            plan.executor.shutdown(wait=True, cancel_futures=True)
