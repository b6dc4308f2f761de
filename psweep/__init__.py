"""psweep: run a function over parameter sets and keep every result.

>>> import psweep as ps
>>> params = ps.pgrid(ps.plist("a", [1, 2]), ps.plist("b", [8, 9]))
>>> len(params)
4
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from psweep.backup import backup_calc_dir
from psweep.batch import df_gather, prep_batch
from psweep.errors import (
    CalcDirError,
    DatabaseError,
    DatabaseNotFoundError,
    FuncTypeError,
    LockTimeoutError,
    MissingDependencyError,
    ParamsError,
    ParamsTypeError,
    PsetTimeoutError,
    PsweepError,
    StoreWriteError,
    SweepPickleError,
    TemplateError,
)
from psweep.frames import df_extract_params, df_filter_conds, df_print
from psweep.grids import intspace, logspace, stargrid
from psweep.params import (
    filter_params_dup_hash,
    filter_params_unique,
    itr2params,
    loops2params,
    merge_dicts,
    pgrid,
    plist,
    pset_hash,
    seq2dicts,
)
from psweep.run import run
from psweep.sampling import sample_lhs, sample_random
from psweep.store import df_read, df_write
from psweep.sweep import Sweep, sweep
from psweep.machines import Machine, gather_machines
from psweep.templates import FileTemplate, gather_calc_templates

try:
    __version__ = version("psweep")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "sweep",
    "Sweep",
    "run",
    "plist",
    "seq2dicts",
    "pgrid",
    "itr2params",
    "loops2params",
    "merge_dicts",
    "pset_hash",
    "filter_params_unique",
    "filter_params_dup_hash",
    "stargrid",
    "intspace",
    "logspace",
    "sample_random",
    "sample_lhs",
    "df_read",
    "df_write",
    "df_extract_params",
    "df_filter_conds",
    "df_print",
    "backup_calc_dir",
    "prep_batch",
    "FileTemplate",
    "Machine",
    "gather_calc_templates",
    "gather_machines",
    "df_gather",
    "PsweepError",
    "ParamsError",
    "ParamsTypeError",
    "FuncTypeError",
    "CalcDirError",
    "DatabaseError",
    "DatabaseNotFoundError",
    "LockTimeoutError",
    "StoreWriteError",
    "SweepPickleError",
    "TemplateError",
    "MissingDependencyError",
    "PsetTimeoutError",
]
