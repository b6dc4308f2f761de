"""Building psets: lists, grids, sampling, and the content hash of a pset.

``_psets`` (plist, pgrid, itr2params, merge_dicts), ``_grids`` and
``_sampling`` build psets; ``_hashing`` hashes one, ``_leftout`` handles
the keys the hash leaves out, ``_filters`` drops repeats by hash;
``_missing`` is the one rule for a missing value.
"""

from __future__ import annotations

from psweep.params._filters import filter_params_dup_hash, filter_params_unique
from psweep.params._grids import intspace, logspace, stargrid
from psweep.params._hashing import hash_with_layout, key_layout, pset_hash
from psweep.params._missing import is_missing
from psweep.params._leftout import (
    LeftOut,
    collisions,
    describe,
    differ_from_rows,
    left_out_digest,
    left_out_keys,
    warn_collisions,
)
from psweep.params._psets import (
    itr2params,
    loops2params,
    merge_dicts,
    pgrid,
    plist,
    seq2dicts,
)
from psweep.params._sampling import sample_lhs, sample_random

__all__ = [
    "is_missing",
    "LeftOut",
    "collisions",
    "describe",
    "differ_from_rows",
    "filter_params_dup_hash",
    "filter_params_unique",
    "hash_with_layout",
    "intspace",
    "itr2params",
    "key_layout",
    "left_out_digest",
    "left_out_keys",
    "logspace",
    "loops2params",
    "merge_dicts",
    "pgrid",
    "plist",
    "pset_hash",
    "sample_lhs",
    "sample_random",
    "seq2dicts",
    "stargrid",
    "warn_collisions",
]
