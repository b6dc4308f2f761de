"""``ps.run``: a study run as a sequence of steps.

options (:mod:`._options`) -> plan (:mod:`._plan`) -> prepare (:mod:`._prepare`)
-> simulate (:mod:`._simulate`) -> admit (:mod:`._admit`) -> execute
(:mod:`._execute`) -> result (:mod:`._result`). Nothing is written before
the first three have passed.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from psweep.engine._admit import admit
from psweep.engine._dups import NOT_GIVEN
from psweep.engine._execute import execute
from psweep.engine._notices import Tally
from psweep.engine._options import run_options
from psweep.engine._plan import plan_psets
from psweep.engine._prepare import prepare, stopping_pool
from psweep.engine._result import result
from psweep.engine._simulate import simulation
from psweep.errors import check_options
from psweep.execute import refuse_in_worker_bootstrap
from psweep.store import Store

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
        ``<calc_dir>_<last _time_utc>`` (see :func:`psweep.provenance.backup_calc_dir`).
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
        :func:`psweep.provenance.code_hash`, recorded per run) are reused too,
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
    options = run_options(
        func, df=df, calc_dir=calc_dir, poolsize=poolsize, executor=executor,
        dask_client=dask_client, chunksize=chunksize, simulate=simulate, save=save,
        backup=backup, backup_calc_dir=backup_calc_dir, backup_script=backup_script,
        database_basename=database_basename, skip_dups=skip_dups, on_error=on_error,
        capture_logs=capture_logs, progress=progress, git=git, lock_timeout=lock_timeout,
        source=source, tmpsave=tmpsave, verbose=verbose, fill_value=fill_value, timeout=timeout,
    )  # fmt: skip
    psets = plan_psets(params)
    prepared = prepare(func, options)
    with stopping_pool(prepared), simulation(options) as run_dir:
        store = Store(run_dir, options.database_basename, options.lock_timeout)
        tally = Tally(len(psets), store.db_path if options.save else None)
        try:
            admission = admit(store, psets, options, prepared.func_hash)
            tally.planned = len(admission.psets)
            recorder, written = execute(func, store, admission, options, prepared, tally)
            return result(func, store, options, admission, prepared.run_id, recorder, written)
        except KeyboardInterrupt as exc:
            # Whatever moment Ctrl-C came (in a pset, in the final fold, after
            # it), the user learns what is kept and how to go on.
            tally.explain(exc)
            raise
