"""Reading the output of batch jobs back into the database frame: :func:`df_gather`."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import pandas as pd

from psweep.errors import ParamsError, PsweepError

__all__ = ["df_gather", "Gathered"]


class Gathered(NamedTuple):
    """What :func:`df_gather` returns: unpack as ``df, missing = ps.df_gather(...)``."""

    df: pd.DataFrame
    """The frame with the loaded columns (missing where a pset's output is missing)."""
    missing: pd.DataFrame
    """The rows whose output is missing: jobs that have not run (or not finished)."""


def df_gather(
    df: pd.DataFrame,
    load: Callable[[str], Mapping[str, Any] | None],
    *,
    calc_dir: str | os.PathLike[str] | None = None,
) -> Gathered:
    """Read each pset's output files back into new columns of the database frame.

    Parameters
    ----------
    df
        Rows of a database, e.g. ``ps.df_read("calc/results.pk")``.
    load
        ``load(pset_dir) -> dict``: reads the output in the pset's folder and
        returns the values of new columns. Returning None, or raising
        ``FileNotFoundError``, means the output is not there (yet).
    calc_dir
        Where the pset folders are, if not at each row's ``_calc_dir`` (e.g.
        the calc dir was copied back from a cluster to another path).

    Returns
    -------
    Gathered
        ``(df, missing)``: a copy of `df` with the loaded columns (a column
        that `df` has already keeps its values in rows without output), and
        the rows of `df` whose output is missing.

    Raises
    ------
    PsweepError
        If `load` raises anything else; the message names the pset folder.

    Examples
    --------
    >>> import numpy as np, pandas as pd, psweep as ps
    >>> from pathlib import Path
    >>> df = pd.DataFrame({"a": [1, 2], "_pset_id": ["p1", "p2"], "_calc_dir": "calc"})
    >>> (Path("calc") / "p1").mkdir(parents=True)
    >>> np.save(Path("calc") / "p1" / "out.npy", np.array([1.0, 3.0]))
    >>> def load(pset_dir):
    ...     return {"mean_": np.load(f"{pset_dir}/out.npy").mean()}
    >>> df, missing = ps.df_gather(df, load)
    >>> df["mean_"].tolist()
    [2.0, nan]
    >>> missing["_pset_id"].tolist()
    ['p2']
    """
    if not callable(load):
        raise ParamsError(
            f"load is a {type(load).__name__}, not callable: pass a function "
            f"load(pset_dir) -> dict of new columns."
        )
    for col in ("_pset_id",) + (() if calc_dir is not None else ("_calc_dir",)):
        if col not in df.columns:
            raise ParamsError(f"df has no column {col!r}: pass rows of a psweep database.")
    dirs = (
        [os.path.join(os.fspath(calc_dir), pid) for pid in df["_pset_id"]]
        if calc_dir is not None
        else [os.path.join(cd, pid) for cd, pid in zip(df["_calc_dir"], df["_pset_id"])]
    )
    loaded: list[Mapping[str, Any] | None] = []
    for pset_dir in dirs:
        try:
            values = load(pset_dir)
        except FileNotFoundError:
            values = None
        except Exception as exc:
            raise PsweepError(f"load({pset_dir!r}) raised {type(exc).__name__}: {exc}") from exc
        if values is not None and not isinstance(values, Mapping):
            raise ParamsError(
                f"load({pset_dir!r}) returned a {type(values).__name__}; return a dict "
                f"of new columns, or None when the output is missing."
            )
        loaded.append(values)
    out = df.copy()
    columns = list(dict.fromkeys(key for values in loaded if values for key in values))
    for col in columns:
        old = out[col].tolist() if col in out.columns else [float("nan")] * len(out)
        new = [old[i] if values is None or col not in values else values[col]
               for i, values in enumerate(loaded)]
        out[col] = pd.Series(new, index=out.index, dtype=object).infer_objects()
    is_missing = [values is None for values in loaded]
    return Gathered(out, df[is_missing])
