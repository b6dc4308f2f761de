"""Executors a run uses: resolving run()'s options, stopping the pools psweep owns."""

from __future__ import annotations

import concurrent.futures as cf
import inspect
import os
import time
from collections.abc import Callable
from typing import Any

from psweep.execute._lifeline import init_pool_worker
from psweep.execute._probe import pickled_function, probe_pool

__all__ = ["ExecutorPlan", "POOL_THREADS_TIMEOUT", "STOP_GRACE", "resolve_executor", "stop_workers"]

# How long to wait for a broken pool's threads to end before starting its
# replacement (they end once its stopped workers are reaped: milliseconds).
POOL_THREADS_TIMEOUT = 10.0
# Seconds a worker process of our pool gets to end after being asked (the
# pool's shutdown, then SIGTERM) before the next step (SIGTERM, SIGKILL): a
# pset that defers SIGTERM (a checkpoint handler) or a thread that never
# ends must not keep the driver from exiting.
STOP_GRACE = 3.0


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

    def close(self, graceful: bool = False) -> None:
        """Stop the pool if psweep started it (a user's executor stays).

        Safe to call again; a run calls it however it ends, also when a
        step before the first pset fails (the database lock times out).

        Parameters
        ----------
        graceful
            Every chunk is back: idle workers get the pool's own shutdown
            first (see :func:`stop_workers`).
        """
        if self.make is not None:
            stop_workers(self.executor, graceful=graceful)


def stop_workers(executor: cf.Executor, graceful: bool = False) -> None:
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
            stop_workers(pool)
            raise
        return ExecutorPlan(pool, func, int(poolsize or 1), make)
    if _is_dask_client(executor):
        # cloudpickle ships the raw function by value where a wrapt proxy
        # defined in __main__ could not be found by reference on a worker.
        workers = sum(executor.nthreads().values()) or 1
        # pure=False: a chunk sent again (a retry) is a new task, not the
        # lost one Dask would hand back under the same key.
        return ExecutorPlan(executor.get_executor(pure=False), inspect.unwrap(func), workers, None)
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

