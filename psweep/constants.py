"""Defaults that psweep 0.16 exported as module constants, with our values.

Each names a default that some function here uses, so that scripts that
import them (``ps.CALC_DIR``, ``ps.PSET_HASH_ALG``) keep working and see
what this psweep actually does.

>>> import psweep as ps
>>> ps.CALC_DIR, ps.DATABASE_BASENAME, ps.PSET_HASH_ALG
('calc', 'results.pk', 'sha1')
"""

from __future__ import annotations

import numpy as np

from psweep.calcdir import DEFAULT_BASENAME

__all__ = [
    "CALC_DIR",
    "DATABASE_BASENAME",
    "FILL_VALUE",
    "GIT_ADD_ALL",
    "PANDAS_DEFAULT_ORIENT",
    "PANDAS_TIME_UNIT",
    "PSET_HASH_ALG",
]

#: Default ``calc_dir`` of :func:`psweep.run` and :func:`psweep.sweep`.
CALC_DIR = "calc"

#: Default ``database_basename``: the database is ``<calc_dir>/results.pk``
#: (0.16: ``database.pk``; a calc dir holding only that file continues it).
DATABASE_BASENAME = DEFAULT_BASENAME

#: What :func:`psweep.df_update_pset_cols` and :func:`psweep.df_ensure_dtypes`
#: put into missing cells by default: NaN, which is what our database holds
#: for a missing value in a column of numbers (0.16: ``pd.NA`` in its
#: all-object frames). Hashing treats None, NaN and ``pd.NA`` alike.
FILL_VALUE = np.nan

#: The git command with which :func:`psweep.git_enter` and
#: :func:`psweep.git_exit` stage every change before committing.
GIT_ADD_ALL = "git add -A -v"

#: Default ``orient`` of JSON written and read by :func:`psweep.df_to_json`,
#: ``df_write(fmt="json")`` and ``df_read(fmt="json")``: a list of rows.
PANDAS_DEFAULT_ORIENT = "records"

#: Unit of timestamps in JSON from :func:`psweep.df_to_json`. Nanoseconds,
#: so ``_time_utc`` keeps its full precision (0.16: ``"s"``, whole seconds).
PANDAS_TIME_UNIT = "ns"

#: Default ``method`` of :func:`psweep.pset_hash`, the :mod:`hashlib`
#: algorithm of the ``_pset_hash`` column.
PSET_HASH_ALG = "sha1"
