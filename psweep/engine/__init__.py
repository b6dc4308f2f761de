"""The sweep decorator and run(): plan, admit, execute and record a study."""

from __future__ import annotations

from psweep.engine._checks import check_lock_timeout
from psweep.engine._dups import skip_done
from psweep.engine._plan import PlannedPsets, plan_psets
from psweep.engine._run import run
from psweep.engine._simulate import prepare_simulate_dir
from psweep.engine._sweep import Sweep, sweep

__all__ = [
    "PlannedPsets",
    "Sweep",
    "check_lock_timeout",
    "plan_psets",
    "prepare_simulate_dir",
    "run",
    "skip_done",
    "sweep",
]
