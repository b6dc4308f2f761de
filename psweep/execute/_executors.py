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

__all__ = ["PoolLoop", "run_serial", "run_with_executor"]

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
        Planned psets, each taken a new dict (as the engine's planned psets are), which
        becomes its row.
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
            # Each planned pset is a new dict, which becomes its row.
            row = execute_pset(func, pset, simulate, keep_exception, capture_logs, True, bound, True)
            failed = row["_failed"]
            record(row)
            if failed and keep_exception:
                return


# The exception Dask raises for a task whose worker died while running it
# (distributed.scheduler.KilledWorker), named to spare importing Dask.
_DASK_WORKER_DIED = "KilledWorker"


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
    no worker of a pool psweep started outlives it (see
    :func:`~psweep.execute._pools.stop_workers`).
    """
    PoolLoop(plan, psets, worker_options, record, chunksize).run()


class PoolLoop:
    """One run of psets on an executor: submit chunks, record rows as they
    come back, replace a pool of ours that broke or hung.

    Parameters are those of :func:`run_with_executor`, which is
    ``PoolLoop(...).run()``.
    """

    def __init__(
        self,
        plan: ExecutorPlan,
        psets: list[dict[str, Any]],
        worker_options: dict[str, Any],
        record: Record,
        chunksize: int | None = None,
    ) -> None:
        self.plan = plan
        self.psets = psets
        self.worker_options = worker_options
        self.record = record
        self.chunksize = chunksize
        self.queue = PsetQueue(psets)  # builds each pset only when it is sent
        # Psets of chunks lost with a broken pool: each is retried alone, one
        # at a time, so only a pset that crashes its worker again is failed.
        self.suspects: deque[dict[str, Any]] = deque()
        self.suspect_ids: set[str] = set()
        self.timed_out: set[str] = set()  # psets whose worker psweep stopped for it
        self.in_flight: dict[cf.Future[Any], tuple[list[dict[str, Any]], cf.Executor]] = {}
        self.per_pset: float | None = None
        self.stop = False
        self.stop_on_failure = bool(worker_options.get("keep_exception"))
        # timeout=: workers stop a pset themselves at its timeout, counted from
        # its own start (psweep.execute._timeouts). The driver's deadline per
        # chunk is a fallback: it stops a process of our pool that never saw
        # SIGALRM, and gives up on a chunk on threads or Dask only when its
        # worker is lost.
        self.timeout = worker_options.get("timeout")
        self.capture_logs = worker_options.get("capture_logs")
        if plan.processes:
            self.deadlines = Deadlines(self.timeout, HARD_STOP_GRACE)
        else:
            self.deadlines = Deadlines(self.timeout, LOST_WORKER_GRACE, factor=2.0)
        self.max_in_flight = plan.workers if self.timeout is not None else 2 * plan.workers

    def run(self) -> None:
        """Run every pset (or until the first failure with ``keep_exception``)."""
        logs: LogsFolder | None = None
        completed = False
        try:
            logs = LogsFolder(self.capture_logs, self.psets)
            while self.queue or self.suspects or self.in_flight:
                self._submit_more()
                if not self.in_flight:
                    break
                done, _ = cf.wait(
                    self.in_flight, timeout=self.deadlines.seconds_left(), return_when=cf.FIRST_COMPLETED
                )
                for fut in done:
                    self._collect(fut)
                for fut in self.deadlines.expired():
                    self._overdue(fut)
            completed = True
        except KeyboardInterrupt:
            self._keep_what_finishes()
            raise
        finally:
            for fut in self.in_flight:
                fut.cancel()
            # Every chunk back: the workers are idle and end at once. Else
            # (Ctrl-C, an error) running psets are not waited for.
            self.plan.close(graceful=completed)
            if logs is not None:
                logs.remove()

    def _replace_pool(self, executor: cf.Executor) -> None:
        """Stop `executor`, a pool of ours that broke or hangs, and start a
        fresh one; the chunks lost with it come back as broken futures.
        Nothing to do if it was replaced already."""
        if executor is self.plan.executor and self.plan.make is not None:
            stop_workers(executor)
            self.plan.executor = self.plan.make()

    def _next_chunk(self) -> list[dict[str, Any]] | None:
        """Psets to send next; None while a suspect is out (they go alone, one at a time)."""
        if self.suspects:
            if any(chunk[0]["_pset_id"] in self.suspect_ids for chunk, _ in self.in_flight.values()):
                return None
            return [self.suspects.popleft()]
        queue = self.queue
        size = self.chunksize or next_chunk_size(self.per_pset, len(queue), self.plan.workers)
        return [queue.popleft() for _ in range(min(size, len(queue)))]

    def _submit_more(self) -> None:
        """Send chunks until enough are in flight."""
        plan = self.plan
        while (self.queue or self.suspects) and not self.stop and len(self.in_flight) < self.max_in_flight:
            chunk = self._next_chunk()
            if chunk is None:
                break
            executor = plan.executor
            try:
                fut = executor.submit(
                    execute_chunk,
                    plan.payload,
                    chunk,
                    **self.worker_options,
                    pickled=plan.pickled,
                    driver_pid=plan.driver_pid,
                )
            except cf.BrokenExecutor:
                if plan.make is None:
                    raise
                # A worker died and broke the pool before any of its futures
                # came back: the chunk never ran; retry it on a fresh pool
                # (the futures of the old one fail as lost).
                waiting = self.suspects if chunk[0]["_pset_id"] in self.suspect_ids else self.queue
                waiting.extendleft(reversed(chunk))
                self._replace_pool(executor)
                continue
            self.in_flight[fut] = (chunk, executor)
            self.deadlines.add(fut, len(chunk))

    def _collect(self, fut: cf.Future[Any]) -> None:
        """Record the rows of a chunk that is back (done or lost)."""
        chunk, executor = self.in_flight.pop(fut)
        self.deadlines.discard(fut)
        try:
            rows = _joined(chunk, fut.result())
        except Exception as exc:
            rows = self._rows_of_lost_chunk(chunk, executor, exc)
        self._record_rows(rows)

    def _rows_of_lost_chunk(
        self, chunk: list[dict[str, Any]], executor: cf.Executor, exc: Exception
    ) -> list[dict[str, Any]]:
        """Failure rows of a chunk that did not come back; when its worker
        died (a broken pool of ours, a killed Dask worker, which Dask's
        nanny restarts), its psets not yet suspected are retried alone
        instead: the pset that killed the worker fails when it does so
        again alone, psets that only shared its worker run."""
        # A pool psweep stopped also cancels futures not yet running.
        ours_broke = isinstance(exc, (cf.BrokenExecutor, cf.CancelledError)) and self.plan.make is not None
        retry_ids: set[str] = set()
        if ours_broke or type(exc).__name__ == _DASK_WORKER_DIED:
            self._replace_pool(executor)  # a no-op on an executor we do not own
            settled = self.suspect_ids | self.timed_out
            retry = [pset for pset in chunk if pset["_pset_id"] not in settled]
            retry_ids = {pset["_pset_id"] for pset in retry}
            self.suspects.extend(retry)
            self.suspect_ids.update(retry_ids)
        lost_text = _lost_text(exc, len(chunk))
        return [
            _timed_out_row(pset, self.timeout, _REPLACED, self.worker_options)
            if pset["_pset_id"] in self.timed_out
            else _lost_row(pset, lost_text, self.capture_logs)
            for pset in chunk
            if pset["_pset_id"] not in retry_ids
        ]

    def _overdue(self, fut: cf.Future[Any]) -> None:
        """A chunk past its deadline: stop its worker (our pool; it then comes
        back broken) or give up on it (recording its psets as timed out)."""
        chunk, executor = self.in_flight[fut]
        if self.plan.make is not None:
            # A pset that was alone is the one that hung.
            if len(chunk) == 1:
                self.timed_out.add(chunk[0]["_pset_id"])
            self._replace_pool(executor)
            return
        del self.in_flight[fut]
        fut.cancel()
        how = _given_up_text(self.plan)
        self._record_rows([_timed_out_row(pset, self.timeout, how, self.worker_options) for pset in chunk])

    def _record_rows(self, rows: list[dict[str, Any]]) -> None:
        """Record rows that reached the driver; learn the time per pset."""
        record, stop, stop_on_failure = self.record, self.stop, self.stop_on_failure
        for row in rows:
            stop = stop or (stop_on_failure and row["_failed"])
            record(row)
        self.stop = stop
        if rows:
            self.per_pset = update_estimate(self.per_pset, rows)

    def _keep_what_finishes(self) -> None:
        """After Ctrl-C: stop submitting; give chunks already out a short grace
        to come back (they are ~CHUNK_SECONDS of work) and keep them; the rest
        is cancelled. A second Ctrl-C during the grace ends it at once."""
        done, _ = cf.wait(self.in_flight, timeout=INTERRUPT_GRACE)
        for fut in done:
            if not fut.cancelled() and fut.exception() is None:
                for row in _joined(self.in_flight[fut][0], fut.result()):
                    self.record(row)
