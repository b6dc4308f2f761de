"""Defaults that psweep 0.16 exported as module constants, with our values.

Each names a default that some function here uses, so that scripts that
import them (``ps.CALC_DIR``, ``ps.PSET_HASH_ALG``) keep working and see
what this psweep actually does.

>>> import psweep as ps
>>> ps.CALC_DIR, ps.DATABASE_BASENAME, ps.PSET_HASH_ALG
('calc', 'results.pk', 'sha1')
"""

from __future__ import annotations

from psweep._schema import (
    CALC_DIR,
    DEFAULT_BASENAME,
    FILL_VALUE,
    GIT_ADD_ALL,
    PANDAS_DEFAULT_ORIENT,
    PANDAS_TIME_UNIT,
    PSET_HASH_ALG,
)

__all__ = [
    "CALC_DIR",
    "DATABASE_BASENAME",
    "FILL_VALUE",
    "GIT_ADD_ALL",
    "PANDAS_DEFAULT_ORIENT",
    "PANDAS_TIME_UNIT",
    "PSET_HASH_ALG",
]

#: Default ``database_basename``: the database is ``<calc_dir>/results.pk``
#: (0.16: ``database.pk``; a calc dir holding only that file continues it).
DATABASE_BASENAME = DEFAULT_BASENAME
