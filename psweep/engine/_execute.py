"""Execution of a run's psets: rows recorded as they come, then the final fold and the end marker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from psweep.engine._recorder import Recorder
from psweep.execute import run_serial, run_with_executor
from psweep.provenance import end_provenance

__all__ = ["execute", "finish"]


def execute(
    func: Callable[[dict[str, Any]], Any],
    exe: Any,
    psets: Any,
    worker_options: dict[str, Any],
    record: Callable[[dict[str, Any]], None],
    chunksize: int | None,
    recorder: Recorder,
    run_file: str | None,
) -> pd.DataFrame | None:
    """Run the psets, recording rows, then the final fold: the database as written."""
    ended_by: BaseException | None = None
    try:
        if exe is None:
            run_serial(func, psets, worker_options, record)
        else:
            run_with_executor(exe, psets, worker_options, record, chunksize)
    except BaseException as exc:
        ended_by = exc
        raise
    finally:
        written = finish(recorder, run_file, ended_by)
    return written


def finish(recorder: Recorder, run_file: str | None, ended_by: BaseException | None) -> Any:
    """``recorder.finish()``, then the end marker in the run's provenance file.

    The marker comes after the final fold, so a run whose rows are not all
    in the database never reads as finished (see :func:`psweep.runs`).
    """
    try:
        return recorder.finish()
    except BaseException as exc:
        if ended_by is None:
            ended_by = exc
        raise
    finally:
        if run_file is not None:
            if ended_by is None:
                ended_by = recorder.first_exception
            error = None
            if ended_by is None:
                state = "finished"
            elif isinstance(ended_by, KeyboardInterrupt):
                state = "interrupted"
            else:
                state = "stopped"
                error = f"{type(ended_by).__name__}: {ended_by}"
            end_provenance(run_file, state, recorder.n_rows, recorder.n_failed, error)
