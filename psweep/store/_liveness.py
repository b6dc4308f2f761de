"""Signs of life that other hosts can see: heartbeat files, their age in the file server's time.

``flock`` tells a live run from a dead one only where every process sees the
same locks; on many cluster mounts (NFS with ``nolock`` or
``local_lock=all``, Lustre with ``localflock``) a lock is seen only on the
node that took it. So a live run also keeps a *sign of life*: a small file
naming its host and pid whose modification time one daemon thread per
process refreshes every few seconds (:func:`keep_alive`), never a write per
row. Another host takes the run for live while that time is younger than
:func:`liveness_timeout` (environment variable ``PSWEEP_LIVENESS_TIMEOUT``,
seconds, default :data:`DEFAULT_LIVENESS_TIMEOUT`); on the run's own host
its pid decides as well.

Ages are measured against the file server's clock, never this host's
``time.time()``: :func:`server_now` touches a file of its own in the same
folder and reads its modification time, so clocks that differ between hosts
do no harm.

Examples
--------
>>> import os
>>> from psweep.store._liveness import end_sign, read_sign, sign_may_live, write_sign
>>> os.makedirs("calc", exist_ok=True)
>>> fd = write_sign("calc/run.alive")
>>> read_sign("calc/run.alive")["pid"] == os.getpid(), sign_may_live("calc/run.alive")
(True, True)
>>> end_sign(fd, "calc/run.alive")
>>> sign_may_live("calc/run.alive")
False
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import threading
import time
from typing import Any

from psweep._procs import pid_exists  # the shared check; store re-exports it

__all__ = [
    "DEFAULT_LIVENESS_TIMEOUT",
    "LIVENESS_ENV",
    "ALIVE_SUFFIX",
    "liveness_timeout",
    "heartbeat_interval",
    "this_host",
    "pid_exists",
    "server_now",
    "age",
    "write_sign",
    "fill_sign",
    "end_sign",
    "read_sign",
    "sign_may_live",
    "keep_alive",
    "stop_keeping_alive",
]

#: Seconds without a sign of life after which a run of another host is taken for dead.
DEFAULT_LIVENESS_TIMEOUT = 180.0
#: The environment variable that sets the liveness timeout (seconds); use one value on all hosts.
LIVENESS_ENV = "PSWEEP_LIVENESS_TIMEOUT"
#: Suffix of a journal's sign-of-life file (``<_run_id>.jnl.alive``).
ALIVE_SUFFIX = ".alive"

# Heartbeats per timeout: a run misses a few before it is taken for dead
# (NFS caches attributes for up to a minute by default: keep the timeout
# well above that).
_BEATS_PER_TIMEOUT = 6
_MAX_INTERVAL = 15.0


def liveness_timeout() -> float:
    """Seconds without a sign of life after which a run of another host counts as dead.

    Returns
    -------
    float
        ``PSWEEP_LIVENESS_TIMEOUT`` if set, else :data:`DEFAULT_LIVENESS_TIMEOUT`.

    Raises
    ------
    ValueError
        If the variable is set to something that is not a positive number.

    Examples
    --------
    >>> from psweep.store._liveness import liveness_timeout
    >>> liveness_timeout() > 0
    True
    """
    text = os.environ.get(LIVENESS_ENV)
    if not text:
        return DEFAULT_LIVENESS_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(
            f"the environment variable {LIVENESS_ENV}={text!r} is not a positive number "
            f"of seconds. Set it to e.g. 180 (the default), the same on every host, or unset it."
        )
    return value


def heartbeat_interval() -> float:
    """Seconds between two refreshes of a live run's signs of life."""
    return min(_MAX_INTERVAL, liveness_timeout() / _BEATS_PER_TIMEOUT)


def this_host() -> str:
    """This host's name, as run records and signs of life name it."""
    return platform.node()


# Per folder: (offset of the server's clock from time.time(), when measured).
_CLOCKS: dict[str, tuple[float, float]] = {}
_CLOCK_TTL = 30.0


def server_now(folder: str) -> float:
    """The file server's time now, as modification times in `folder` show it.

    Measured by touching a file of our own there (cached for half a
    minute); this host's clock where the folder cannot be written.
    """
    now = time.time()
    cached = _CLOCKS.get(folder)
    if cached is not None and now - cached[1] < _CLOCK_TTL:
        return now + cached[0]
    probe = os.path.join(folder, f".clock-{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return now
    try:
        mtime = os.fstat(fd).st_mtime
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.remove(probe)
    _CLOCKS[folder] = (mtime - now, now)
    return mtime


def age(path: str) -> float | None:
    """Seconds since `path` was last modified, in server time; None if it is gone."""
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    return max(0.0, server_now(os.path.dirname(os.path.abspath(path))) - mtime)


def write_sign(path: str) -> int:
    """Create the sign-of-life file `path` (host, pid) and keep it alive.

    Returns its open descriptor; pass it to :func:`stop_keeping_alive` at
    the end. Where the text cannot be written (a full disk), the file stays
    empty: readers then judge it by its age alone.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    fill_sign(fd)
    return fd


def fill_sign(fd: int) -> None:
    """Write this process's host and pid into the new empty file `fd`, and keep it alive."""
    with contextlib.suppress(OSError):
        os.write(fd, json.dumps({"host": this_host(), "pid": os.getpid()}).encode())
    keep_alive(fd)


def end_sign(fd: int | None, path: str) -> None:
    """Stop keeping the sign of life `path` (open as `fd`, if any) alive, and remove it."""
    if fd is None:
        return
    stop_keeping_alive(fd)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.remove(path)


def read_sign(path: str) -> dict[str, Any] | None:
    """The host and pid a sign-of-life file names: {} if it names none, None if it is gone."""
    try:
        with open(path, "rb") as fobj:
            data = fobj.read(4096)
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    try:
        info = json.loads(data)
    except ValueError:
        return {}
    return info if isinstance(info, dict) else {}


def sign_may_live(path: str) -> bool:
    """Whether the process that keeps the sign of life `path` may still run.

    On its own host: its pid exists and the sign is younger than the
    timeout (an old sign means the pid was reused). On another host, or
    when the file names no host: the sign is younger than the timeout.
    """
    info = read_sign(path)
    if info is None:
        return False
    pid = info.get("pid")
    if info.get("host") == this_host() and isinstance(pid, int) and not pid_exists(pid):
        return False
    seconds = age(path)
    return seconds is not None and seconds < liveness_timeout()


# The heartbeat: file descriptors whose modification time one daemon
# thread refreshes (futimens: the file itself, whatever its name now).
_BEATING: set[int] = set()
_BEAT_LOCK = threading.Lock()
_BEAT_WAKE = threading.Event()
_BEAT_THREAD: threading.Thread | None = None


def keep_alive(fd: int) -> None:
    """Refresh the modification time of the open file `fd` every few seconds, from now on."""
    global _BEAT_THREAD
    with _BEAT_LOCK:
        _BEATING.add(fd)
        if _BEAT_THREAD is None:
            _BEAT_WAKE.clear()
            _BEAT_THREAD = threading.Thread(target=_beat, name="psweep-heartbeat", daemon=True)
            _BEAT_THREAD.start()


def stop_keeping_alive(fd: int) -> None:
    """Stop refreshing `fd` (call before closing it); the thread ends with the last one."""
    with _BEAT_LOCK:
        _BEATING.discard(fd)
        if not _BEATING:
            _BEAT_WAKE.set()


def _beat() -> None:
    global _BEAT_THREAD
    while True:
        try:
            interval = heartbeat_interval()
        except ValueError:
            interval = DEFAULT_LIVENESS_TIMEOUT / _BEATS_PER_TIMEOUT
        _BEAT_WAKE.wait(interval)
        with _BEAT_LOCK:
            if not _BEATING:  # nothing left to keep alive: no thread lives on
                _BEAT_THREAD = None
                return
            _BEAT_WAKE.clear()
            for fd in list(_BEATING):
                with contextlib.suppress(OSError):
                    os.utime(fd)


def _forget_in_child() -> None:
    # A forked worker does not keep its parent's runs alive: the parent does.
    global _BEAT_THREAD, _BEAT_LOCK
    _BEATING.clear()
    _BEAT_THREAD = None
    _BEAT_LOCK = threading.Lock()  # a parent's thread may have held it at the fork


os.register_at_fork(after_in_child=_forget_in_child)
