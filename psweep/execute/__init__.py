"""Where psets run: serially, in pools or on any executor; the worker side of a pset."""

from __future__ import annotations

from psweep.execute._executors import run_serial, run_with_executor
from psweep.execute._pools import resolve_executor
from psweep.execute._probe import refuse_in_worker_bootstrap
from psweep.execute._timeouts import NO_LIMIT_ABOVE
from psweep.execute._worker import CAPTURE_MODES, make_storable

__all__ = [
    "CAPTURE_MODES",
    "NO_LIMIT_ABOVE",
    "make_storable",
    "refuse_in_worker_bootstrap",
    "resolve_executor",
    "run_serial",
    "run_with_executor",
]
