"""The first step of ``ps.run``: its options checked and resolved, before anything is written."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import pandas as pd

from psweep.engine._checks import (
    check_arguments,
    check_chunksize,
    check_lock_timeout,
    check_timeout,
    progress_class,
)
from psweep.engine._dups import check_skip_dups
from psweep.engine._runoptions import check_verbose
from psweep.errors import ParamsError, PsweepError
from psweep.execute import CAPTURE_MODES
from psweep.provenance import git_state
from psweep.store import database_name, upgrade_016_frame

__all__ = ["RunOptions", "run_options"]


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """The options of one ``ps.run`` call, checked, merged and resolved.

    Each field is the keyword of :func:`psweep.run` of that name, except:
    `calc_dir` is a str; `database_basename` is resolved (results.pk, or
    0.16's database.pk); `df` is upgraded from psweep 0.16's columns;
    `executor` holds ``dask_client=`` too; `backup` holds
    ``backup_calc_dir=`` too and is False for a dry run; `progress_class`
    is the tqdm class to use (None: no bar); `git_info` is the state of the
    git work tree (None without ``git=True``).
    """

    calc_dir: str
    database_basename: str
    df: pd.DataFrame | None
    poolsize: int | None
    executor: Any
    chunksize: int | None
    simulate: bool
    save: bool
    backup: bool
    backup_script: str | None
    skip_dups: Any
    on_error: str
    capture_logs: str | None
    progress_class: Any
    git_info: dict[str, Any] | None
    lock_timeout: float
    source: str | None
    tmpsave: bool
    verbose: bool | Sequence[str]
    fill_value: Any
    timeout: float | None


def run_options(
    func: Any,
    *,
    df: Any,
    calc_dir: Any,
    poolsize: Any,
    executor: Any,
    dask_client: Any,
    chunksize: Any,
    simulate: bool,
    save: bool,
    backup: bool,
    backup_calc_dir: bool | None,
    backup_script: str | None,
    database_basename: Any,
    skip_dups: Any,
    on_error: str,
    capture_logs: Any,
    progress: bool | None,
    git: bool,
    lock_timeout: Any,
    source: str | None,
    tmpsave: bool,
    verbose: Any,
    fill_value: Any,
    timeout: Any,
) -> RunOptions:
    """Check ``ps.run``'s arguments but `params`, and resolve them; nothing is written.

    Parameters
    ----------
    func
        The run's function, checked to be callable as ``func(pset)``.
    df, calc_dir, poolsize, executor, dask_client, chunksize, simulate, save, \
backup, backup_calc_dir, backup_script, database_basename, skip_dups, \
on_error, capture_logs, progress, git, lock_timeout, source, tmpsave, \
verbose, fill_value, timeout
        The keywords of :func:`psweep.run`.

    Returns
    -------
    RunOptions

    Raises
    ------
    ParamsError, ParamsTypeError, FuncTypeError, CalcDirError, PsweepError
        A bad value, named with its fix.
    MissingDependencyError
        ``progress=True`` without tqdm.
    """
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
        raise ParamsError(f"capture_logs={capture_logs!r}: use one of {CAPTURE_MODES}.")
    calc_dir = os.fspath(calc_dir)
    # Keyword arguments are evaluated in order: the database's name, df,
    # tqdm, then git (a subprocess), as they were before the split.
    return RunOptions(
        calc_dir=calc_dir,
        database_basename=database_name(calc_dir) if database_basename is None else database_basename,
        df=None if df is None else upgrade_016_frame(df),
        progress_class=progress_class(progress),
        git_info=git_state() if git else None,
        poolsize=poolsize,
        executor=executor,
        chunksize=chunksize,
        simulate=simulate,
        save=save,
        backup=bool(backup) and not simulate,  # a dry run changes no database worth a copy
        backup_script=backup_script,
        skip_dups=skip_dups,
        on_error=on_error,
        capture_logs=capture_logs,
        lock_timeout=lock_timeout,
        source=source,
        tmpsave=tmpsave,
        verbose=verbose,
        fill_value=fill_value,
        timeout=timeout,
    )
