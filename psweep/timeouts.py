"""``timeout=``: bounding how long one pset may run.

In the main thread of a process (a serial run, a process-pool worker) the
pset is interrupted by SIGALRM (``signal.setitimer``) and becomes a failed
row. Elsewhere (threads, Dask) nothing can interrupt it; the driver keeps a
deadline per chunk in flight instead and records the pset failed when it
passes (and stops a worker of its own pool that ignored the signal).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["Alarm", "Deadlines", "alarm_supported", "arm", "disarm", "pset_alarm", "timed_out_text"]


class Alarm(BaseException):
    """Raised by SIGALRM in a pset past its timeout; not an Exception, so
    that an ``except Exception`` in the user's function cannot swallow it."""


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
    >>> from psweep.timeouts import alarm_supported
    >>> alarm_supported() == (threading.current_thread() is threading.main_thread())
    True
    """
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def pset_alarm(timeout: float | None) -> Iterator[float | None]:
    """Handle SIGALRM for psets bounded by `timeout` seconds, in this thread.

    Yields the timeout to pass to :func:`execute_pset`, or None where
    signals cannot bound a pset (see :func:`alarm_supported`).
    """
    if timeout is None or not alarm_supported():
        yield None
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        yield timeout
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
    >>> from psweep.timeouts import timed_out_text
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
    """

    def __init__(self, timeout: float | None, grace: float) -> None:
        self.timeout = timeout
        self.grace = grace
        self._due: dict[cf.Future[Any], float] = {}

    def add(self, fut: cf.Future[Any], n_psets: int) -> None:
        """Expect `fut`, a chunk of `n_psets` psets, back in time."""
        if self.timeout is not None:
            self._due[fut] = time.monotonic() + n_psets * self.timeout + self.grace

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
