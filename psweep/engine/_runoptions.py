"""psweep 0.16's run options ``tmpsave=``, ``verbose=`` and ``fill_value=``."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psweep._schema import TMPSAVE_DIR
from psweep.errors import ParamsError

__all__ = ["check_verbose", "record_and_show", "fill_missing"]


def check_verbose(verbose: Any) -> None:
    """Raise ParamsError unless `verbose` is a bool or a list of column names."""
    if isinstance(verbose, bool):
        return
    if isinstance(verbose, (str, bytes)) or not isinstance(verbose, Iterable) or not all(
        isinstance(c, str) for c in verbose
    ):
        raise ParamsError(
            f"verbose={verbose!r}: pass True (print each row), False, or a "
            f"list of column names such as ['a', 'result_']."
        )


def record_and_show(
    record: Callable[[dict[str, Any]], None],
    tmpsave: bool,
    verbose: bool | Sequence[str],
    row: dict[str, Any],
) -> None:
    """`record` the row, then pickle it (tmpsave) and print it (verbose)."""
    record(row)
    shown = {**row, "_time_utc": _timestamp(row["_time_utc"])}
    if tmpsave:
        folder = os.path.join(row["_calc_dir"], TMPSAVE_DIR, row["_run_id"])
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{row['_pset_id']}.pk"), "wb") as fd:
            pickle.dump(shown, fd)
    if verbose:
        frame = pd.DataFrame([shown], index=[shown["_time_utc"]])
        cols = list(frame.columns) if verbose is True else [c for c in verbose if c in frame.columns]
        print(frame[cols].to_string(), flush=True)


def _timestamp(seconds: Any) -> pd.Timestamp:
    """A row's ``_time_utc`` (seconds in transit) as the database stores it."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return pd.Timestamp(seconds)
    # Whole seconds and the fraction apart, as psweep.store._dbfile converts them.
    whole = float(np.floor(seconds))
    return pd.Timestamp(int(whole) * 1_000_000_000 + int(np.round((seconds - whole) * 1e9)))


def fill_missing(df: pd.DataFrame, fill_value: Any) -> pd.DataFrame:
    """`df` with missing cells of columns not starting with ``_`` set to `fill_value`."""
    out = df.copy()
    for col in out.columns:
        if str(col).startswith("_"):
            continue
        values = out[col]
        missing = [bool(m) if np.ndim(m) == 0 else False for m in map(pd.isna, values)]
        if any(missing):
            out[col] = [fill_value if m else v for v, m in zip(values, missing)]
    return out
