"""Dry runs (``simulate=True``): the folder ``<calc_dir>.simulate``, made afresh."""

from __future__ import annotations

import os
import shutil

from psweep._schema import SIMULATE_LOCK, simulate_dir
from psweep.store import Store

__all__ = ["prepare_simulate_dir"]


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
