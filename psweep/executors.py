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
from collections import deque
from collections.abc import Callable
from typing import Any

from psweep.errors import SweepPickleError
from psweep.worker import execute_chunk, execute_pset, failure_row

__all__ = ["ExecutorPlan", "resolve_executor", "run_serial", "run_with_executor"]

CHUNK_SECONDS = 0.2
MAX_CHUNK = 10_000

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
            return cf.ProcessPoolExecutor(max_workers=poolsize)

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
    for pset in psets:
        row = execute_pset(func, pset, **worker_options)
        failed = row["_failed"]
        record(row)
        if failed and worker_options.get("keep_exception"):
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
    A chunk whose worker died (``BrokenProcessPool``) becomes failure rows;
    a pool we own is then replaced and the rest runs on. Only a bounded
    number of chunks is in flight, so the driver holds little memory.
    """
    queue = deque(psets)
    in_flight: dict[cf.Future[list[dict[str, Any]]], tuple[list[dict[str, Any]], cf.Executor]] = {}
    per_pset: float | None = None
    stop = False
    stop_on_failure = bool(worker_options.get("keep_exception"))
    try:
        while queue or in_flight:
            while queue and not stop and len(in_flight) < 2 * plan.workers:
                size = chunksize or _next_chunk_size(per_pset, len(queue), plan.workers)
                chunk = [queue.popleft() for _ in range(min(size, len(queue)))]
                fut = plan.executor.submit(execute_chunk, plan.payload, chunk, **worker_options)
                in_flight[fut] = (chunk, plan.executor)
            if not in_flight:
                break
            done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                chunk, executor = in_flight.pop(fut)
                try:
                    rows = fut.result()
                except Exception as exc:
                    rows = [failure_row(pset, _lost_text(exc, len(chunk))) for pset in chunk]
                    if isinstance(exc, cf.BrokenExecutor) and plan.make and executor is plan.executor:
                        executor.shutdown(wait=False, cancel_futures=True)
                        plan.executor = plan.make()
                for row in rows:
                    stop = stop or (stop_on_failure and row["_failed"])
                    record(row)
                per_pset = _update_estimate(per_pset, rows)
    finally:
        for fut in in_flight:
            fut.cancel()
        if plan.make is not None:
            plan.executor.shutdown(wait=True, cancel_futures=True)
