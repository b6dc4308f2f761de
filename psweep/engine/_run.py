"""The run loop: plan the psets, execute them, stream rows to the store."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import filelock
import pandas as pd

from psweep._schema import SIMULATE_LOCK, simulate_dir
from psweep.engine._admit import add_rows_of_df, next_seqs
from psweep.engine._dups import NOT_GIVEN, SAME_CODE, check_skip_dups, skip_done, warn_repeated
from psweep.engine._execute import execute
from psweep.engine._notices import Tally, explain_interrupt, warn_after_run
from psweep.engine._checks import (
    check_arguments,
    check_chunksize,
    check_lock_timeout,
    check_timeout,
    progress_class,
)
from psweep.engine._plan import plan_psets, uuid4s
from psweep.engine._recorder import Recorder
from psweep.engine._result import result_frame
from psweep.engine._runoptions import check_verbose, fill_missing, record_and_show
from psweep.engine._simulate import prepare_simulate_dir
from psweep.engine._writes import start_write
from psweep.errors import LockTimeoutError, ParamsError, PsweepError, check_options
from psweep.execute import CAPTURE_MODES, refuse_in_worker_bootstrap, resolve_executor
from psweep.provenance import backup_calc_dir as copy_calc_dir
from psweep.provenance import code_hash, git_state, notebook_source, write_provenance, write_source
from psweep.store import Store, check_readable, check_writable, database_name, upgrade_016_frame

__all__ = ["run"]

def _suggesting_options(run_func: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
    """`run_func` with a misspelt keyword raising an error that names the
    closest option (Python's own TypeError offers none before 3.13)."""
    names = tuple(inspect.signature(run_func).parameters)

    @functools.wraps(run_func)
    def checked(*args: Any, **kwargs: Any) -> pd.DataFrame:
        check_options(kwargs, names, "ps.run()")
        return run_func(*args, **kwargs)

    return checked





def _one_simulation_at_a_time(run_func: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
    """Hold the lock of ``<calc_dir>.simulate`` through a ``simulate=True`` run.

    Dry runs share that folder, which each starts afresh from a copy of the
    database: concurrent ones (in several processes) wait for each other,
    so each returns the database plus its own rows.
    """
    signature = inspect.signature(run_func)

    @functools.wraps(run_func)
    def wrapper(*args: Any, **kwargs: Any) -> pd.DataFrame:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            return run_func(*args, **kwargs)  # let run name the mistake
        options = bound.arguments
        calc_dir = options.get("calc_dir", "calc")
        if not options.get("simulate") or not isinstance(calc_dir, (str, os.PathLike)):
            return run_func(*args, **kwargs)
        # Bad option values are refused before the dry run's folder is made.
        timeout = check_lock_timeout(options.get("lock_timeout", 600.0))
        check_chunksize(options.get("chunksize"))
        check_timeout(options.get("timeout"))
        sim_dir = simulate_dir(calc_dir)
        with start_write(sim_dir):
            os.makedirs(sim_dir, exist_ok=True)
        lock = filelock.FileLock(os.path.join(sim_dir, SIMULATE_LOCK))
        try:
            lock.acquire(timeout=timeout)
        except filelock.Timeout as exc:
            raise LockTimeoutError(
                f"another dry run (simulate=True) of {os.fspath(calc_dir)!r} has "
                f"held {sim_dir!r} for {timeout} s; wait for it, or pass a "
                f"larger lock_timeout=."
            ) from exc
        try:
            return run_func(*args, **kwargs)
        finally:
            lock.release()

    return wrapper


@_suggesting_options
@_one_simulation_at_a_time
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
    database_basename: str | None = None,
    skip_dups: bool | str = NOT_GIVEN,
    on_error: str = "record",
    capture_logs: str | None = None,
    progress: bool | None = None,
    git: bool = False,
    lock_timeout: float = 600.0,
    source: str | None = None,
    tmpsave: bool = False,
    verbose: bool | Sequence[str] = False,
    fill_value: Any = None,
    timeout: float | None = None,
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
        database on disk, which keeps all rows it had. `skip_dups` then
        skips what `df` has done; with ``save=False``, ``_pset_seq`` and
        ``_run_seq`` continue from `df`.
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
        Psets sent to a worker at once, a whole number >= 1. Default:
        adapts so that a chunk takes about 0.2 s (a row is only safe once
        it is back).
    simulate
        Dry run in ``<calc_dir>.simulate/``, starting from a copy of the
        database; `func` is not called, result columns stay missing.
    save
        Write the database; False runs in memory only and returns the
        database on disk (or `df`) plus the new rows, numbered after them.
    backup
        Before a run that changes an existing database, copy `calc_dir` to
        ``<calc_dir>_<last _time_utc>`` (see :func:`psweep.provenance._backup.backup_calc_dir`).
    backup_calc_dir
        Old name of `backup`.
    backup_script
        Path of a file (usually ``__file__``) to copy to
        ``<calc_dir>/backup_script/<_run_id>.py``.
    database_basename
        File name of the database in `calc_dir`. Default ``results.pk``,
        or psweep 0.16's ``database.pk`` in a calc dir holding only that
        one, which is then continued (see :func:`psweep.store._calcdir.database_name`).
    skip_dups
        Skip psets whose ``_pset_hash`` already has a successful row; failed
        ones run again. Re-running a killed study this way does exactly
        what is missing. Rows made by a different version of `func` (see
        :func:`psweep.provenance._backup.code_hash`, recorded per run) are reused too,
        with a warning that counts them; ``"same-code"`` re-runs those
        psets, and those whose rows predate code hashes. Not given (the
        default, shown as False), psets run again, and a run that repeated
        psets which had successful rows says so once; ``skip_dups=False``
        repeats them without a word. A pset skipped although its keys the
        hash leaves out (``n_``, ``_seed``) differ from those of the rows
        is counted in a warning.
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
        Seconds (>= 0) to wait for the database lock; ``float("inf")``
        waits for ever.
    source
        Source text to store as ``backup_script/<_run_id>.py`` beside the
        run's provenance ``backup_script/<_run_id>.json`` (the
        :func:`~psweep.sweep` decorator passes its module's source). In a
        Jupyter kernel the default is the notebook's path and the code of
        the cells run so far.
    tmpsave
        Also pickle each row, as a dict, to
        ``<calc_dir>/tmpsave/<_run_id>/<_pset_id>.pk`` when it is recorded
        (psweep 0.16's option; the journal already keeps every row safe).
    verbose
        Print each row when it is recorded: True for all columns, or a list
        of column names.
    fill_value
        Value for the missing cells of parameter and result columns (a key
        a row does not have) in the returned frame, e.g. ``pd.NA`` as in
        psweep 0.16. Default None: pandas' own (NaN, None). The database
        on disk keeps pandas' missing values, so numeric columns stay
        numeric.
    timeout
        Seconds a pset may run, counted from its own start (default None or
        ``float("inf")``: no limit). A pset that runs longer becomes a
        failed row whose ``_exc_txt`` says it timed out; the run goes on.
        In the main thread of a process (serial runs, process pools) SIGALRM
        stops the pset (and a pool psweep started replaces a worker that
        does not stop); elsewhere (thread pools, Dask) the worker stops
        waiting for the pset, whose thread runs on until the function
        returns (see :mod:`psweep.execute._timeouts`).

    Returns
    -------
    pandas.DataFrame
        The database after this run: every row recorded in `calc_dir`
        (including rows other processes recorded meanwhile), or `df` plus
        the new rows when `df` is given. Indexed by ``_time_utc``.

    Raises
    ------
    ParamsError, ParamsTypeError
        Bad `params`, or a bad value of an option such as `timeout`,
        `chunksize` or `lock_timeout`, before anything is written.
    FuncTypeError, CalcDirError, SweepPickleError
        Unusable `func`, `calc_dir` or function for a process pool.
    StoreWriteError
        `calc_dir` cannot be written (permissions, a read-only or full
        disk), found before any pset runs; the message says what to fix.
    MissingDependencyError
        ``progress=True`` without tqdm.
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
    refuse_in_worker_bootstrap()
    if backup_calc_dir is not None:
        backup = backup or bool(backup_calc_dir)
    if dask_client is not None:
        if executor is not None:
            raise PsweepError("pass either executor= or dask_client=, not both.")
        executor = dask_client
    check_arguments(func, calc_dir, poolsize, executor, on_error, df, database_basename)
    check_skip_dups(skip_dups)
    check_verbose(verbose)
    timeout = check_timeout(timeout)
    chunksize = check_chunksize(chunksize)
    lock_timeout = check_lock_timeout(lock_timeout)
    if capture_logs not in CAPTURE_MODES:
        raise ParamsError(
            f"capture_logs={capture_logs!r}: use one of {CAPTURE_MODES}."
        )
    calc_dir = os.fspath(calc_dir)
    if database_basename is None:
        database_basename = database_name(calc_dir)
    if df is not None:
        df = upgrade_016_frame(df)
    progress_cls = progress_class(progress)
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
        with start_write(calc_dir):
            calc_dir = prepare_simulate_dir(calc_dir, database_basename, lock_timeout)
        backup = False
    store = Store(calc_dir, database_basename, lock_timeout)
    run_id = uuid4s(1)[0]
    tally = Tally(len(psets))
    try:
        run_seq = first_seq = 0
        if save:
            # A database this process cannot read (another pandas wrote it)
            # fails now, not after every pset ran (cheap when ours wrote it).
            check_readable(store.db_path)
            with start_write(calc_dir), store.locked():
                db = None
                if skip_dups or backup or df is not None:
                    db = store.with_pending(store.fold())
                if skip_dups:
                    psets = skip_done(psets, db if df is None else df, skip_dups, runs_dir, func_hash)
                if psets:
                    # Before any pset runs: the final fold and the journal need these folders.
                    check_writable(calc_dir, store.db_path, store.journal_dir)
                    if backup:
                        copy_calc_dir(calc_dir, db)
                    at_least = (0, 0)
                    if df is not None:
                        # As psweep 0.16: the database gets the rows of df it
                        # lacks (it only grows), and new rows are numbered after df's.
                        db = add_rows_of_df(store, db, df)
                        at_least = next_seqs(df)
                    run_seq, first_seq = store.reserve_seqs(len(psets), db, at_least)
        elif df is not None or store.exists():
            if df is None:  # as psweep 0.16: extend the database on disk, in memory
                df = store.with_pending(store.read_db_file())
            if skip_dups:
                psets = skip_done(psets, df, skip_dups, runs_dir, func_hash)
            run_seq, first_seq = next_seqs(df)
        tally.planned = len(psets)

        # func sees its row's bookkeeping in the database's column order
        # (0.16's tests compare them); psets are built as they run.
        psets.number(run_id, calc_dir, run_seq, first_seq)
        run_file = None  # the provenance file, which gets the end marker
        if save and psets:
            with start_write(calc_dir):
                if source is not None:
                    write_source(calc_dir, run_id, source)
                run_file = write_provenance(calc_dir, run_id, git_info, func_hash, len(psets), database_basename)

        bar = None if progress_cls is None else progress_cls(total=len(psets), unit="pset", dynamic_ncols=True)
        recorder = tally.recorder = Recorder(store, run_id, save=save, progress=bar)
        record = recorder.record
        if tmpsave or verbose:
            record = functools.partial(record_and_show, record, tmpsave, verbose)
        worker_options = {
            "simulate": simulate,
            "keep_exception": on_error == "raise",
            "capture_logs": capture_logs,
            "timeout": timeout,
        }
        written = execute(func, exe, psets, worker_options, record, chunksize, recorder, run_file)
        if recorder.first_exception is not None:
            raise recorder.first_exception
        warn_after_run(recorder, func, on_error)
        if skip_dups is NOT_GIVEN:
            # The database as the run's final fold wrote it (or df in memory): no extra read.
            n_own = recorder.n_rows if save else 0
            warn_repeated(psets, written if save else df, run_id, store.db_path, simulate, n_own)
        out = result_frame(store, save, df, written, recorder, run_id)
        return out if fill_value is None else fill_missing(out, fill_value)
    except KeyboardInterrupt as exc:
        # Whatever moment Ctrl-C came (in a pset, in the final fold, after
        # it), the user learns what is kept and how to go on.
        explain_interrupt(exc, tally.saved, tally.planned, store.db_path if save else None)
        raise
