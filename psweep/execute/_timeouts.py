"""``timeout=``: bounding how long one pset may run.

A pset's clock starts when the pset starts, wherever it runs:

* In the main thread of a process (a serial run, a process-pool worker)
  SIGALRM (``signal.setitimer``) interrupts the pset, which becomes a
  failed row.
* Elsewhere (a thread pool, Dask worker threads, a serial run started from
  another thread) signals cannot reach the pset: the worker runs it in a
  thread of its own and waits at most the timeout for it. A pset still
  running then becomes a failed row, and its thread runs on (threads cannot
  be stopped) while the worker goes on with the next pset.

The driver keeps a deadline per chunk in flight only as a fallback: for a
process-pool worker that never sees SIGALRM (it stops that worker) and for
a worker that is lost.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import contextvars
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any, Union

__all__ = [
    "Alarm",
    "AlarmBound",
    "BoundCall",
    "Deadlines",
    "NO_LIMIT_ABOVE",
    "alarm_supported",
    "arm",
    "disarm",
    "pset_bound",
    "ThreadBound",
    "timed_out_text",
]

# Timeouts above this many seconds (~31 years) mean no limit, as does
# float("inf"): signal.setitimer and thread waits overflow a little above.
NO_LIMIT_ABOVE = 1e9

class Alarm(BaseException):
    """A pset ran past its timeout; not an Exception, so that an ``except
    Exception`` in the user's function cannot swallow it.

    Raised by SIGALRM inside the pset, or by the wait for a pset running in
    a thread of its own; then `where` is that thread's stack at the time.
    """

    def __init__(self, where: str | None = None) -> None:
        super().__init__(where)
        self.where = where


# Whether the running pset's alarm may interrupt it: a SIGALRM whose
# Python handler runs just after the pset ended must not raise elsewhere.
_armed = False


def _on_alarm(signum: int, frame: Any) -> None:
    if _armed:
        raise Alarm


def arm(timeout: float) -> None:
    """Let SIGALRM interrupt the pset about to run after `timeout` seconds."""
    global _armed
    _armed = True
    signal.setitimer(signal.ITIMER_REAL, timeout)


def disarm() -> None:
    """The pset ended: no more SIGALRM for it."""
    global _armed
    _armed = False
    signal.setitimer(signal.ITIMER_REAL, 0)


def alarm_supported() -> bool:
    """Whether psets run here can be bounded by SIGALRM.

    Returns
    -------
    bool
        True in the main thread of a process on a system with
        ``signal.setitimer`` (POSIX).

    Examples
    --------
    >>> import threading
    >>> from psweep.execute._timeouts import alarm_supported
    >>> alarm_supported() == (threading.current_thread() is threading.main_thread())
    True
    """
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


class AlarmBound:
    """Calls ``func(arg)``, interrupted by SIGALRM after `seconds` (see
    :func:`pset_bound`, which handles the signal)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, func: Callable[[Any], Any], arg: Any) -> Any:
        arm(self.seconds)
        try:
            return func(arg)
        finally:
            disarm()


class ThreadBound:
    """Calls ``func(arg)`` in a thread of its own and waits for it at most
    `seconds`; raises :class:`Alarm` if it still runs then (it runs on)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, func: Callable[[Any], Any], arg: Any) -> Any:
        outcome: list[tuple[bool, Any]] = []

        def target() -> None:
            try:
                outcome.append((True, func(arg)))
            except BaseException as exc:  # SystemExit too: raised again below
                outcome.append((False, exc))

        # The caller's context variables go along (Dask's get_worker() reads one).
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(target,), name="psweep-pset", daemon=True)
        thread.start()
        thread.join(self.seconds)
        if not outcome:
            raise Alarm(where=_stack_of(thread))
        returned, value = outcome[0]
        if returned:
            return value
        raise value


BoundCall = Union[AlarmBound, ThreadBound]


def _stack_of(thread: threading.Thread) -> str:
    """Where `thread` is now, as traceback text."""
    frame = sys._current_frames().get(thread.ident or -1)
    if frame is None:
        return ""
    lines = traceback.format_stack(frame)
    return "Traceback of the pset's thread (most recent call last):\n" + "".join(lines)


@contextlib.contextmanager
def pset_bound(timeout: float | None) -> Iterator[BoundCall | None]:
    """How to call psets bounded by `timeout` seconds, in this thread.

    Yields ``call(func, arg)``, which calls ``func(arg)`` and raises
    :class:`Alarm` once `timeout` seconds have passed since it started
    (SIGALRM where :func:`alarm_supported`, else a thread per pset); None
    without a timeout.

    Examples
    --------
    >>> import time
    >>> from psweep.execute._timeouts import Alarm, pset_bound
    >>> with pset_bound(0.1) as call:
    ...     call(abs, -2)
    ...     try:
    ...         call(time.sleep, 5)
    ...     except Alarm:
    ...         print("timed out")
    2
    timed out
    """
    if timeout is None:
        yield None
        return
    if not alarm_supported():
        yield ThreadBound(timeout)
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        yield AlarmBound(timeout)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def timed_out_text(timeout: float, how: str = "it was interrupted") -> str:
    """``_exc_txt`` of a pset that ran longer than `timeout` seconds.

    Parameters
    ----------
    timeout
        The run's ``timeout=``.
    how
        What became of the pset.

    Returns
    -------
    str

    Examples
    --------
    >>> from psweep.execute._timeouts import timed_out_text
    >>> timed_out_text(2.5)
    'PsetTimeoutError: the pset timed out after 2.5 s (timeout=2.5); it was interrupted and the run went on.'
    """
    return (
        f"PsetTimeoutError: the pset timed out after {timeout:g} s "
        f"(timeout={timeout!r}); {how} and the run went on."
    )


class Deadlines:
    """When chunks in flight must be back, for ``timeout=``.

    Parameters
    ----------
    timeout
        Seconds per pset, or None (no deadlines).
    grace
        Seconds added to each chunk's deadline.
    factor
        Multiplies the psets' timeouts: above 1 where a chunk may wait in
        the executor's queue behind another before it starts.
    """

    def __init__(self, timeout: float | None, grace: float, factor: float = 1.0) -> None:
        self.timeout = timeout
        self.grace = grace
        self.factor = factor
        self._due: dict[cf.Future[Any], float] = {}

    def add(self, fut: cf.Future[Any], n_psets: int) -> None:
        """Expect `fut`, a chunk of `n_psets` psets, back in time."""
        if self.timeout is not None:
            self._due[fut] = time.monotonic() + self.factor * n_psets * self.timeout + self.grace

    def discard(self, fut: cf.Future[Any]) -> None:
        """`fut` is back: no deadline for it."""
        self._due.pop(fut, None)

    def seconds_left(self) -> float | None:
        """Until the next deadline (None: none)."""
        if not self._due:
            return None
        return max(0.0, min(self._due.values()) - time.monotonic())

    def expired(self) -> list[cf.Future[Any]]:
        """Futures past their deadline and not done; forgotten from here on."""
        now = time.monotonic()
        late = [f for f, due in self._due.items() if due <= now and not f.done()]
        for fut in late:
            del self._due[fut]
        return late
