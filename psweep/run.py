"""The run loop: plan the psets, execute them, stream rows to the store."""

from __future__ import annotations

import functools
import inspect
import os
import shutil
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from psweep.backup import backup_calc_dir as copy_calc_dir
from psweep.backup import code_hash, git_state, write_provenance, write_source
from psweep.errors import (
    CalcDirError,
    FuncTypeError,
    ParamsError,
    ParamsTypeError,
    PsweepError,
    caller_stacklevel,
    check_options,
)
from psweep.executors import run_serial, run_with_executor, resolve_executor
from psweep.notebook import kernel_shell, notebook_source
from psweep.plan import plan_psets, uuid4s
from psweep.recorder import Recorder
from psweep.dbfile import concat_rows, rows_to_frame
from psweep.dups import SAME_CODE, SKIP_DUPS, skip_done
from psweep.store import Store
from psweep.worker import CAPTURE_MODES

__all__ = ["run"]

_ON_ERROR = ("record", "raise")
def _suggesting_options(run_func: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
    """`run_func` with a misspelt keyword raising an error that names the
    closest option (Python's own TypeError offers none before 3.13)."""
    names = tuple(inspect.signature(run_func).parameters)

    @functools.wraps(run_func)
    def checked(*args: Any, **kwargs: Any) -> pd.DataFrame:
        check_options(kwargs, names, "ps.run()")
        return run_func(*args, **kwargs)

    return checked


@_suggesting_options
def run(
    func: Callable[[dict[str, Any]], Any],
    params: Iterable[Mapping[str, Any]],
    df: pd.DataFrame | None = None,
    calc_dir: str = "calc",
    poolsize: int | None = None,
    executor: Any = None,
    dask_client: Any = None,
    chunksize: int | None = None,
    simulate: bool = False,
    save: bool = True,
    backup: bool = False,
    backup_calc_dir: bool | None = None,
    backup_script: str | None = None,
    database_basename: str = "results.pk",
    skip_dups: bool | str = False,
    on_error: str = "record",
    capture_logs: str | None = None,
    progress: bool | None = None,
    git: bool = False,
    lock_timeout: float = 600.0,
    source: str | None = None,
) -> pd.DataFrame:
    """Call `func` on each pset in `params` and record one row per pset.

    Rows are appended to the database ``<calc_dir>/<database_basename>``
    as each pset finishes (a crash loses at most the psets in flight), and
    any number of processes may run on one calc dir at the same time.

    Parameters
    ----------
    func
        ``func(pset) -> dict``: takes one pset (a dict, with bookkeeping
        keys such as ``_pset_id`` added) and returns a dict of results,
        which is merged into the pset to form the row. Returning the whole
        updated pset, or None (no results), works too.
    params
        Iterable of psets (dicts with string keys). Never modified.
    df
        A database to extend instead of the one on disk. The returned frame
        is `df` plus the new rows; the new rows are also appended to the
        database on disk, which keeps all rows it had.
    calc_dir
        Folder of the database and of files psets write
        (``<calc_dir>/<_pset_id>/``). Stored as given in ``_calc_dir``.
    poolsize
        Run psets in this many local processes (any start method).
    executor
        A ``concurrent.futures.Executor`` or a ``dask.distributed.Client``
        to run psets on. Not together with `poolsize`.
    dask_client
        Alias of `executor` for a Dask client, as in psweep 0.16.
    chunksize
        Psets sent to a worker at once. Default: adapts so that a chunk
        takes about 0.2 s (a row is only safe once it is back).
    simulate
        Dry run in ``<calc_dir>.simulate/``, starting from a copy of the
        database; `func` is not called, result columns stay missing.
    save
        Write the database; False runs in memory only.
    backup
        Before a run that changes an existing database, copy `calc_dir` to
        ``<calc_dir>_<last _time_utc>`` (see :func:`psweep.backup.backup_calc_dir`).
    backup_calc_dir
        Old name of `backup`.
    backup_script
        Path of a file (usually ``__file__``) to copy to
        ``<calc_dir>/backup_script/<_run_id>.py``.
    database_basename
        File name of the database in `calc_dir`.
    skip_dups
        Skip psets whose ``_pset_hash`` already has a successful row; failed
        ones run again. Re-running a killed study this way does exactly
        what is missing. Rows made by a different version of `func` (see
        :func:`psweep.backup.code_hash`, recorded per run) are reused too,
        with a warning that counts them; ``"same-code"`` re-runs those
        psets, and those whose rows predate code hashes.
    on_error
        ``"record"``: a pset that raises becomes a row with ``_failed=True``
        and the traceback in ``_exc_txt``; the others run on.
        ``"raise"``: stop at the first failure, record every finished row,
        then re-raise the exception.
    capture_logs
        Capture what `func` prints to stdout and stderr (file descriptors
        included, so output of C code and subprocesses too): ``"db"`` to the
        ``_logs`` column, ``"file"`` to ``<calc_dir>/<_pset_id>/logs.txt``,
        ``"db+file"`` to both; None (default) leaves output alone.
    progress
        Show a tqdm progress bar (done/total, failed count, ETA). Default:
        on when stderr is a terminal or in a Jupyter notebook (a widget
        there, with ipywidgets) and tqdm is installed. tqdm is an
        optional extra (``pip install psweep[progress]``).
    git
        Record the commit and dirty flag of the git work tree the driver
        runs in, and the uncommitted diff as
        ``<calc_dir>/backup_script/<_run_id>.diff``. Outside a repository
        this is an error, raised before any work.
    lock_timeout
        Seconds to wait for the database lock.
    source
        Source text to store as ``backup_script/<_run_id>.py`` beside the
        run's provenance ``backup_script/<_run_id>.json`` (the
        :func:`~psweep.sweep` decorator passes its module's source). In a
        Jupyter kernel the default is the notebook's path and the code of
        the cells run so far.

    Returns
    -------
    pandas.DataFrame
        The database after this run: every row recorded in `calc_dir`
        (including rows other processes recorded meanwhile), or `df` plus
        the new rows when `df` is given. Indexed by ``_time_utc``.

    Raises
    ------
    ParamsError, ParamsTypeError
        Bad `params`, before anything is written.
    FuncTypeError, CalcDirError, SweepPickleError
        Unusable `func`, `calc_dir` or function for a process pool.
    OptionError
        A keyword this function does not have; names the closest one.
    KeyboardInterrupt
        Ctrl-C: every finished row is saved first; the exception's note
        says how many and how to resume.

    Examples
    --------
    >>> import psweep as ps
    >>> def func(pset):
    ...     return {"result": pset["a"] * 10}
    >>> df = ps.run(func, ps.plist("a", [1, 2]), calc_dir="calc")
    >>> df["result"].tolist()
    [10, 20]
    """
    if backup_calc_dir is not None:
        backup = backup or bool(backup_calc_dir)
    if dask_client is not None:
        if executor is not None:
            raise PsweepError("pass either executor= or dask_client=, not both.")
        executor = dask_client
    _check_options(func, calc_dir, poolsize, executor, on_error, df)
    if skip_dups not in SKIP_DUPS:
        raise ParamsError(f"skip_dups={skip_dups!r}: use one of {SKIP_DUPS}.")
    if capture_logs not in CAPTURE_MODES:
        raise ParamsError(
            f"capture_logs={capture_logs!r}: use one of {CAPTURE_MODES}."
        )
    calc_dir = os.fspath(calc_dir)
    progress_cls = _progress_class(progress)
    git_info = git_state() if git else None
    psets = plan_psets(params)
    if backup_script is not None:
        with open(backup_script, encoding="utf-8") as fd:
            source = fd.read()
    elif source is None:
        source = notebook_source()  # None outside a Jupyter kernel
    func_hash = code_hash(func)
    if skip_dups == SAME_CODE and func_hash is None:
        raise ParamsError(
            f"skip_dups={SAME_CODE!r} compares the code of func with the code "
            f"that made the stored rows, but {func!r:.100} has no Python code "
            f"to hash. Pass a Python function, or use skip_dups=True."
        )
    exe = resolve_executor(func, poolsize, executor)
    runs_dir = calc_dir  # where the code hashes of past runs are, also when simulating
    if simulate:
        calc_dir = _prepare_simulate_dir(calc_dir, database_basename, lock_timeout)
        backup = False
    store = Store(calc_dir, database_basename, lock_timeout)
    run_id = uuid4s(1)[0]

    run_seq = first_seq = 0
    if save:
        with store.locked():
            db = None
            if skip_dups or backup:
                db = store.with_pending(store.fold())
            if skip_dups:
                psets = skip_done(psets, db, skip_dups, runs_dir, func_hash)
            if psets:
                if backup:
                    copy_calc_dir(calc_dir, db)
                run_seq, first_seq = store.reserve_seqs(len(psets), db)
    elif skip_dups and df is not None:
        psets = skip_done(psets, df, skip_dups, runs_dir, func_hash)

    psets.number(run_id, calc_dir, run_seq, first_seq)
    if save and psets:
        write_provenance(calc_dir, run_id, git_info, func_hash)
        if source is not None:
            write_source(calc_dir, run_id, source)

    bar = None if progress_cls is None else progress_cls(total=len(psets), unit="pset", dynamic_ncols=True)
    recorder = Recorder(store, run_id, save=save, progress=bar)
    worker_options = {
        "simulate": simulate,
        "keep_exception": on_error == "raise",
        "capture_logs": capture_logs,
    }
    interrupt = None
    try:
        if exe is None:
            run_serial(func, psets, worker_options, recorder.record)
        else:
            run_with_executor(exe, psets, worker_options, recorder.record, chunksize)
    except KeyboardInterrupt as exc:
        interrupt = exc
        raise
    finally:
        written = recorder.finish()
        if interrupt is not None:
            _explain_interrupt(interrupt, recorder.n_rows, len(psets), store.db_path if save else None)
    if recorder.first_exception is not None:
        raise recorder.first_exception
    if recorder.n_failed and on_error == "record":
        warnings.warn(
            f"psweep: {recorder.n_failed} of {recorder.n_rows} psets failed; "
            f"their rows have _failed=True and the traceback in _exc_txt. "
            f"Select them with df[df._failed]; re-run them with skip_dups=True.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    if not save:
        new = rows_to_frame(recorder.memory_rows)
        return new if df is None else concat_rows(df, new)
    if written is None:  # nothing ran
        db = store.read() if store.exists() else pd.DataFrame()
    else:
        db = store.with_pending(written)
    if df is None:
        return db
    return concat_rows(df, db[db["_run_id"] == run_id]) if len(db) else df


def _progress_class(progress: bool | None) -> Any:
    """The tqdm class to use, or None for no progress bar."""
    if progress is False or (progress is None and not sys.stderr.isatty() and kernel_shell() is None):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:
        if progress:
            raise PsweepError(
                "progress=True needs tqdm, which is not installed. Install it "
                "with: pip install 'psweep[progress]' (or pip install tqdm)."
            ) from exc
        return None
    return tqdm


def _explain_interrupt(exc: KeyboardInterrupt, n_saved: int, n_planned: int, db_path: str | None) -> None:
    """Tell, as the last line of Ctrl-C's traceback, what was kept and how to go on."""
    if db_path is None:
        line = f"psweep: interrupted after {n_saved} of {n_planned} psets; save=False, so none were saved."
    else:
        line = (
            f"psweep: interrupted; {n_saved} of {n_planned} psets of this run are saved "
            f"in {db_path}. Run the same study again with skip_dups=True to do only "
            f"the {n_planned - n_saved} missing."
        )
    if hasattr(exc, "add_note"):
        exc.add_note(line)
    elif not exc.args:  # Python 3.10: the last line reads "KeyboardInterrupt: <line>"
        exc.args = (line,)


def _check_options(
    func: Any, calc_dir: Any, poolsize: Any, executor: Any, on_error: str, df: Any
) -> None:
    if not callable(func):
        raise FuncTypeError(
            f"func is a {type(func).__name__} ({func!r:.100}), not callable. "
            f"Pass the function itself, e.g. ps.run(func, params), not func(pset)."
        )
    if not isinstance(calc_dir, (str, os.PathLike)):
        raise CalcDirError(
            f"calc_dir={calc_dir!r} is a {type(calc_dir).__name__}; pass a "
            f"folder path as str or pathlib.Path."
        )
    if os.path.exists(calc_dir) and not os.path.isdir(calc_dir):
        raise CalcDirError(
            f"calc_dir={os.fspath(calc_dir)!r} is an existing file, not a "
            f"folder. Pass another calc_dir, or move the file away."
        )
    if poolsize is not None and (
        isinstance(poolsize, bool) or not isinstance(poolsize, int) or poolsize < 1
    ):
        raise ParamsError(
            f"poolsize={poolsize!r}: pass a whole number >= 1 of processes, "
            f"or None to run serially."
        )
    if poolsize is not None and executor is not None:
        raise PsweepError(
            "pass either poolsize= (local processes) or executor=/dask_client=, not both."
        )
    if on_error not in _ON_ERROR:
        raise ParamsError(f"on_error={on_error!r}: use one of {_ON_ERROR}.")
    if df is not None and not isinstance(df, pd.DataFrame):
        raise ParamsTypeError(
            f"df is a {type(df).__name__}; pass a pandas DataFrame (a "
            f"database from ps.df_read) or None."
        )


def _prepare_simulate_dir(calc_dir: str, database_basename: str, lock_timeout: float) -> str:
    """Fresh ``<calc_dir>.simulate`` holding a copy of the database only."""
    sim_dir = os.path.normpath(os.fspath(calc_dir)) + ".simulate"
    if os.path.exists(sim_dir):
        shutil.rmtree(sim_dir)
    real = Store(calc_dir, database_basename, lock_timeout)
    if real.exists():
        sim = Store(sim_dir, database_basename, lock_timeout)
        with sim.locked():
            sim.write(real.read())
    return sim_dir
