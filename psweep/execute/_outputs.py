"""Where output goes while psets capture it, also when several run at once in one process.

Python's ``sys.stdout``/``sys.stderr`` and the file descriptors 1 and 2
belong to the whole process, but psets on a thread pool (``executor=`` a
``ThreadPoolExecutor``, a Dask worker with several threads) run side by side
in one process. Swapping the streams per pset mixed their output up: a pset
that ended put back the streams while another still printed, whose lines
then went to the terminal or to the wrong pset's ``_logs``. So, while any
pset captures, ``sys.stdout`` and ``sys.stderr`` are routers that send each
write to the file of the pset its thread runs (or, for other threads, where
it went before; a thread a pset starts itself writes to that pset's file
while it is the only one capturing). The pset is known by a context
variable, which the thread that bounds a pset's time on a thread pool
inherits (:class:`psweep.execute._timeouts.ThreadBound`). The file descriptors, which cannot tell threads apart, go
to a pset's file only while that pset is the only one capturing in the
process (a serial run, a process pool, a Dask worker with one thread); once
psets overlap, they go back where they were, so that output of C code and
subprocesses never lands in another pset's logs.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import threading
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["output_to"]

_LOCK = threading.Lock()
# The file of the pset the current thread (context) runs.
_TARGET: contextvars.ContextVar[IO[str] | None] = contextvars.ContextVar("psweep_capture", default=None)
# The files of every pset capturing now, by capture.
_TARGETS: dict[int, IO[str]] = {}


class _State:
    """What the process's output was before the first capture began."""

    streams: tuple[Any, Any] | None = None
    fds: tuple[int, int] | None = None  # copies of descriptors 1 and 2
    fds_redirected = False


class _Router:
    """A stream that writes to the capture file of the current thread, else to `fallback`."""

    def __init__(self, fallback: Any) -> None:
        self._fallback = fallback

    def _target(self) -> Any:
        target = _TARGET.get()
        if target is not None:
            return target
        if len(_TARGETS) == 1:  # e.g. a thread the one capturing pset started
            for only in list(_TARGETS.values()):
                return only
        return self._fallback

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        with contextlib.suppress(Exception):
            self._target().flush()

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, isatty, buffer, ...
        return getattr(self._target(), name)


def _flush_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _restore_fds() -> None:
    if _State.fds_redirected and _State.fds is not None:
        _flush_streams()
        os.dup2(_State.fds[0], 1)
        os.dup2(_State.fds[1], 2)
        _State.fds_redirected = False


@contextlib.contextmanager
def output_to(out: IO[str]) -> Iterator[None]:
    """Send the output of the current thread (and, while it is alone, of the process) to `out`.

    Parameters
    ----------
    out
        An open text file, unbuffered, with a ``fileno``.

    Examples
    --------
    >>> import tempfile
    >>> from psweep.execute._outputs import output_to
    >>> with tempfile.TemporaryFile("w+") as out:
    ...     with output_to(out):
    ...         print("captured")
    ...     _ = out.seek(0)
    ...     out.read()
    'captured\\n'
    """
    me = object()
    with _LOCK:
        if not _TARGETS:
            _flush_streams()
            _State.streams = (sys.stdout, sys.stderr)
            sys.stdout, sys.stderr = _Router(sys.stdout), _Router(sys.stderr)
            _State.fds = (os.dup(1), os.dup(2))
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            _State.fds_redirected = True
        else:  # psets overlap: descriptors can't tell them apart
            _restore_fds()
        _TARGETS[id(me)] = out
    token = _TARGET.set(out)
    try:
        yield
    finally:
        _TARGET.reset(token)
        with _LOCK:
            del _TARGETS[id(me)]
            if not _TARGETS:
                _restore_fds()
                for fd in _State.fds or ():
                    os.close(fd)
                _State.fds = None
                if _State.streams is not None:
                    sys.stdout, sys.stderr = _State.streams
                    _State.streams = None
