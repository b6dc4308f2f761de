"""psweep 0.16's small helpers and constants, kept for its scripts.

By 0.16's groups: ``_shell`` (system), ``_fileio`` (folders, paths, text,
pickle and JSON files), ``_seqs`` (sequences, flattening), ``_uuids``,
``_git`` (commit before and after a run), ``_constants``.
"""

from __future__ import annotations

from psweep.compat._constants import (
    CALC_DIR,
    DATABASE_BASENAME,
    FILL_VALUE,
    GIT_ADD_ALL,
    PANDAS_DEFAULT_ORIENT,
    PANDAS_TIME_UNIT,
    PSET_HASH_ALG,
)
from psweep.compat._git import git_clean, git_enter, git_exit, in_git_repo
from psweep.compat._fileio import (
    file_read,
    file_write,
    fullpath,
    json_read,
    json_write,
    makedirs,
    pickle_read,
    pickle_write,
)
from psweep.compat._seqs import flatten, flatten_dict, is_seq, itr
from psweep.compat._shell import system
from psweep.compat._uuids import get_many_uuids, get_uuid

__all__ = [
    "CALC_DIR",
    "DATABASE_BASENAME",
    "FILL_VALUE",
    "GIT_ADD_ALL",
    "PANDAS_DEFAULT_ORIENT",
    "PANDAS_TIME_UNIT",
    "PSET_HASH_ALG",
    "file_read",
    "file_write",
    "flatten",
    "flatten_dict",
    "fullpath",
    "get_many_uuids",
    "get_uuid",
    "git_clean",
    "git_enter",
    "git_exit",
    "in_git_repo",
    "is_seq",
    "itr",
    "json_read",
    "json_write",
    "makedirs",
    "pickle_read",
    "pickle_write",
    "system",
]
