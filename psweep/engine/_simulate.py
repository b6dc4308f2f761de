"""Dry runs (``simulate=True``): the folder ``<calc_dir>.simulate``, made afresh, and its lock."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

import filelock

from psweep._schema import SIMULATE_LOCK, simulate_dir
from psweep.engine._options import RunOptions
from psweep.engine._writes import start_write
from psweep.errors import LockTimeoutError
from psweep.store import Store

__all__ = ["prepare_simulate_dir", "simulation"]


@contextlib.contextmanager
def simulation(options: RunOptions) -> Iterator[str]:
    """The calc dir a run writes: its own, or a dry run's, held for the run.

    A dry run gets ``<calc_dir>.simulate`` made afresh from a copy of the
    database, and holds that folder's lock until it ends: dry runs share
    the folder, so concurrent ones (in several processes) wait for each
    other, and each returns the database plus its own rows.

    Parameters
    ----------
    options
        The run's options (``simulate``, ``calc_dir``, ``database_basename``,
        ``lock_timeout``).

    Yields
    ------
    str
        The folder the run records its rows in.

    Raises
    ------
    LockTimeoutError
        Another dry run held the folder for `lock_timeout` seconds.
    StoreWriteError
        The folder cannot be made or written.
    """
    if not options.simulate:
        yield options.calc_dir
        return
    with _one_dry_run_at_a_time(options.calc_dir, options.lock_timeout):
        with start_write(options.calc_dir):
            sim_dir = prepare_simulate_dir(options.calc_dir, options.database_basename, options.lock_timeout)
        yield sim_dir


@contextlib.contextmanager
def _one_dry_run_at_a_time(calc_dir: str, lock_timeout: float) -> Iterator[None]:
    """Hold the lock of ``<calc_dir>.simulate`` (made if need be)."""
    sim_dir = simulate_dir(calc_dir)
    with start_write(sim_dir):
        os.makedirs(sim_dir, exist_ok=True)
    lock = filelock.FileLock(os.path.join(sim_dir, SIMULATE_LOCK))
    try:
        lock.acquire(timeout=lock_timeout)
    except filelock.Timeout as exc:
        raise LockTimeoutError(
            f"another dry run (simulate=True) of {calc_dir!r} has "
            f"held {sim_dir!r} for {lock_timeout} s; wait for it, or pass a "
            f"larger lock_timeout=."
        ) from exc
    try:
        yield
    finally:
        lock.release()


def prepare_simulate_dir(calc_dir: str, database_basename: str, lock_timeout: float) -> str:
    """``<calc_dir>.simulate`` afresh, holding a copy of the database only.

    The real calc dir is only read (database and journals, no lock, no
    fold). ``ps.run`` calls this with the folder's simulate lock held;
    ``prep_batch`` without.

    Parameters
    ----------
    calc_dir
        The real calc dir.
    database_basename
        File name of its database (and of the copy).
    lock_timeout
        Seconds to wait for the lock of the copy's database.

    Returns
    -------
    str
        The dry run's folder, ``<calc_dir>.simulate``.
    """
    sim_dir = simulate_dir(calc_dir)
    os.makedirs(sim_dir, exist_ok=True)
    for name in os.listdir(sim_dir):
        path = os.path.join(sim_dir, name)
        if name == SIMULATE_LOCK:
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    real = Store(calc_dir, database_basename, lock_timeout)
    if real.exists():
        sim = Store(sim_dir, database_basename, lock_timeout)
        with sim.locked():
            sim.write(real.with_pending())
    return sim_dir
