"""Pool workers never outlive their driver.

A SIGKILLed driver cannot shut its pool down, and its workers used to live
on for good (reparented to init, ~50 MB each). Each worker therefore ends
itself once the driver is gone, without the driver's help:

* on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the
  worker when its parent dies (the driver under fork and spawn; under
  forkserver the fork server, which exits when the driver does);
* everywhere, a daemon thread that checks every :data:`POLL_SECONDS`
  whether the parent changed or the driver's pid is gone (under
  forkserver the parent is not the driver, so the driver's pid is watched).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

from psweep._procs import pid_exists

__all__ = ["init_pool_worker", "watch_driver"]

POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1

_watched: int | None = None


def _die_with_parent() -> None:
    """Ask the Linux kernel to SIGKILL this process when its parent dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # no prctl here: the watchdog thread covers it


def watch_driver(driver_pid: int) -> None:
    """End this process soon after the process `driver_pid` is gone.

    Starts one daemon thread per process (later calls do nothing). Does
    nothing in the driver itself.

    Parameters
    ----------
    driver_pid
        Process id of the driver that sends this worker psets.

    Examples
    --------
    >>> import os
    >>> from psweep.execute._lifeline import watch_driver
    >>> watch_driver(os.getpid())  # in the driver: no watchdog
    """
    global _watched
    if _watched is not None or driver_pid == os.getpid():
        return
    _watched = driver_pid
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(POLL_SECONDS)
            if os.getppid() != parent or not pid_exists(driver_pid, other_users=False):
                os._exit(1)  # no cleanup to do: workers never touch the database

    threading.Thread(target=watch, name="psweep-watch-driver", daemon=True).start()


def init_pool_worker(driver_pid: int) -> None:
    """Initializer of the process pools psweep starts (``poolsize=``).

    Ctrl-C reaches the whole process group; only the driver acts on it
    (records what finished, stops the pool), so workers ignore SIGINT and
    print no tracebacks. And the worker dies with its driver.

    Parameters
    ----------
    driver_pid
        Process id of the driver.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    watch_driver(driver_pid)
