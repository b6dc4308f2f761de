"""psweep: run a function over parameter sets and keep every result.

>>> import psweep as ps
>>> params = ps.pgrid(ps.plist("a", [1, 2]), ps.plist("b", [8, 9]))
>>> len(params)
4
"""

from __future__ import annotations

from psweep.provenance import backup_calc_dir
from psweep.batch import df_gather, prep_batch
from psweep.compat import (
    CALC_DIR,
    DATABASE_BASENAME,
    FILL_VALUE,
    GIT_ADD_ALL,
    PANDAS_DEFAULT_ORIENT,
    PANDAS_TIME_UNIT,
    PSET_HASH_ALG,
)
from psweep.errors import (
    CalcDirError,
    DatabaseError,
    DatabaseNotFoundError,
    DatabaseVersionError,
    FuncTypeError,
    GitError,
    LockTimeoutError,
    MissingDependencyError,
    OptionError,
    ParamsError,
    ParamsTypeError,
    PsetTimeoutError,
    PsweepError,
    PsweepHashError,
    StoreWriteError,
    SweepPickleError,
    TemplateError,
    TemplatePlaceholderError,
)
from psweep.frames import df_extract_dicts, df_extract_row, df_filter_conds, df_print, filter_cols
from psweep.frames import df_ensure_dtypes, df_update_pset_cols, df_update_pset_hash
from psweep.frames import check_calc_dir, df_to_json
from psweep.frames import df_extract_params, df_extract_pset
from psweep.compat import git_clean, git_enter, git_exit, in_git_repo
from psweep.params import intspace, logspace, stargrid
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
from psweep.engine import run
from psweep._schema import VERSION
from psweep.params import sample_lhs, sample_random
from psweep.provenance import runs
from psweep.store import df_read, df_write
from psweep.engine import Sweep, sweep
from psweep.ui import report, ui
from psweep.batch import Machine, gather_machines
from psweep.batch import FileTemplate, gather_calc_templates
from psweep.compat import (
    file_read,
    file_write,
    flatten,
    flatten_dict,
    fullpath,
    get_many_uuids,
    get_uuid,
    is_seq,
    itr,
    json_read,
    json_write,
    makedirs,
    pickle_read,
    pickle_write,
    system,
)

__version__ = VERSION

__all__ = [
    "__version__",
    "sweep",
    "Sweep",
    "run",
    "runs",
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
    "df_extract_dicts",
    "df_extract_row",
    "df_extract_pset",
    "df_update_pset_cols",
    "df_update_pset_hash",
    "df_ensure_dtypes",
    "df_to_json",
    "filter_cols",
    "check_calc_dir",
    "backup_calc_dir",
    "prep_batch",
    "FileTemplate",
    "Machine",
    "gather_calc_templates",
    "gather_machines",
    "df_gather",
    "system",
    "makedirs",
    "fullpath",
    "file_write",
    "file_read",
    "pickle_write",
    "pickle_read",
    "json_write",
    "json_read",
    "is_seq",
    "itr",
    "flatten",
    "flatten_dict",
    "get_uuid",
    "get_many_uuids",
    "git_clean",
    "git_enter",
    "git_exit",
    "in_git_repo",
    "CALC_DIR",
    "DATABASE_BASENAME",
    "FILL_VALUE",
    "GIT_ADD_ALL",
    "PANDAS_DEFAULT_ORIENT",
    "PANDAS_TIME_UNIT",
    "PSET_HASH_ALG",
    "PsweepError",
    "ParamsError",
    "ParamsTypeError",
    "FuncTypeError",
    "CalcDirError",
    "DatabaseError",
    "DatabaseVersionError",
    "DatabaseNotFoundError",
    "LockTimeoutError",
    "OptionError",
    "StoreWriteError",
    "SweepPickleError",
    "TemplateError",
    "TemplatePlaceholderError",
    "MissingDependencyError",
    "PsweepHashError",
    "GitError",
    "PsetTimeoutError",
    "ui",
    "report",
]
