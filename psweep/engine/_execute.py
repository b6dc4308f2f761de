"""Execution of a run's psets: numbered, announced in the run record, rows recorded as
they come, then the final fold and the end marker."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pandas as pd

from psweep.engine._admit import Admission
from psweep.engine._notices import Tally
from psweep.engine._options import RunOptions
from psweep.engine._prepare import Prepared
from psweep.engine._recorder import Recorder
from psweep.engine._runoptions import record_and_show
from psweep.engine._writes import start_write
from psweep.execute import run_serial, run_with_executor
from psweep.provenance import end_provenance, write_provenance, write_source
from psweep.store import Store

__all__ = ["execute"]


def execute(
    func: Callable[[dict[str, Any]], Any],
    store: Store,
    admission: Admission,
    options: RunOptions,
    prepared: Prepared,
    tally: Tally,
) -> tuple[Recorder, pd.DataFrame | None]:
    """Run the admitted psets, recording each row as it comes, then fold.

    Parameters
    ----------
    func
        The run's function.
    store
        The store the run records in.
    admission
        The psets to run and their numbering.
    options
        The run's options.
    prepared
        The run's id, source, code hash and executor.
    tally
        Gets the run's recorder, so that Ctrl-C can tell how many rows are kept.

    Returns
    -------
    recorder : Recorder
        The run's recorder (rows, failures).
    written : pandas.DataFrame or None
        The database as the final fold wrote it; None if nothing was written.

    Raises
    ------
    Exception
        With ``on_error="raise"``, the first pset's exception, after every
        finished row is recorded.
    """
    psets = admission.psets
    # func sees its row's bookkeeping in the database's column order
    # (0.16's tests compare them); psets are built as they run.
    psets.number(prepared.run_id, store.calc_dir, admission.run_seq, admission.first_seq)
    run_file = _write_run_record(store, options, prepared, len(psets))
    progress_class = options.progress_class
    bar = None if progress_class is None else progress_class(total=len(psets), unit="pset", dynamic_ncols=True)
    recorder = tally.recorder = Recorder(store, prepared.run_id, save=options.save, progress=bar)
    record = recorder.record
    if options.tmpsave or options.verbose:
        record = functools.partial(record_and_show, record, options.tmpsave, options.verbose)
    worker_options = {
        "simulate": options.simulate,
        "keep_exception": options.on_error == "raise",
        "capture_logs": options.capture_logs,
        "timeout": options.timeout,
    }
    written = _run_psets(
        func, prepared.executor, psets, worker_options, record, options.chunksize, recorder, run_file
    )
    if recorder.first_exception is not None:
        raise recorder.first_exception
    return recorder, written


def _write_run_record(store: Store, options: RunOptions, prepared: Prepared, n_psets: int) -> str | None:
    """The source and the run's provenance file, which later gets the end marker; None if not written."""
    if not (options.save and n_psets):
        return None
    with start_write(store.calc_dir):
        if prepared.source is not None:
            write_source(store.calc_dir, prepared.run_id, prepared.source)
        return write_provenance(
            store.calc_dir,
            prepared.run_id,
            options.git_info,
            prepared.func_hash,
            n_psets,
            options.database_basename,
        )


def _run_psets(
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
        written = _finish(recorder, run_file, ended_by)
    return written


def _finish(recorder: Recorder, run_file: str | None, ended_by: BaseException | None) -> Any:
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
