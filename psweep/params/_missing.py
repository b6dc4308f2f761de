"""What counts as "no value" in a pset or a database cell: the one rule.

pandas turns one missing value into another when it stores a column
(None into NaN, NaN into ``pd.NA`` in nullable columns, NaT in time
columns), so psweep counts them all as the same "no value": a pset read
back from the database hashes like the one that was run, a table shows
an empty cell, a pset extracted from a row leaves the key out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["is_missing"]


def is_missing(value: Any) -> bool:
    """Whether `value` is a missing value: None, NaN (any float), ``pd.NA`` or NaT.

    Containers (lists, arrays, dicts) are values, even when empty or
    holding missing values.

    Parameters
    ----------
    value
        A pset value or a database cell.

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from psweep.params import is_missing
    >>> [is_missing(v) for v in (None, float("nan"), np.float32("nan"), pd.NA, pd.NaT)]
    [True, True, True, True, True]
    >>> [is_missing(v) for v in (0, "", [None], np.array([np.nan]))]
    [False, False, False, False]
    """
    if value is None or value is pd.NA or value is pd.NaT or value is np.ma.masked:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(value != value)
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    return False
