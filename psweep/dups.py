"""skip_dups: which planned psets have a row already, and whether the same code made it."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from psweep.backup import run_code_hashes
from psweep.errors import caller_stacklevel

__all__ = ["SAME_CODE", "SKIP_DUPS", "skip_done"]

SAME_CODE = "same-code"
SKIP_DUPS = (False, True, SAME_CODE)


def skip_done(
    psets: list[dict[str, Any]],
    db: pd.DataFrame,
    skip_dups: bool | str,
    calc_dir: str,
    func_hash: str | None,
) -> list[dict[str, Any]]:
    """Psets whose hash has no successful row in `db` (failed ones re-run).

    Rows made by other code (by the code hashes runs record) are reused with
    a warning, or not at all with ``skip_dups="same-code"``. The hashes are
    read once per run that made a reused row, never per row.
    """
    if "_pset_hash" not in db.columns:
        return psets
    ok = db
    if "_failed" in db.columns:
        ok = db[~db["_failed"].fillna(False).astype(bool)]
    hashes = ok["_pset_hash"]
    done = set(hashes.dropna().tolist())  # tolist: iterating a str column is slow
    todo = [p for p in psets if p["_pset_hash"] not in done]
    if len(todo) == len(psets) or func_hash is None or "_run_id" not in ok.columns:
        return todo
    reused = done.intersection([p["_pset_hash"] for p in psets])
    mask = hashes.isin(reused).to_numpy()
    row_hashes = hashes.to_numpy()[mask].tolist()
    row_runs = ok["_run_id"].to_numpy()[mask].tolist()
    run_hashes = run_code_hashes(calc_dir, set(row_runs))
    if all(h == func_hash for h in run_hashes.values()):
        return todo  # the usual case: the same code made every reused row
    same = {h for h, run in zip(row_hashes, row_runs) if run_hashes[run] == func_hash}
    if skip_dups == SAME_CODE:
        return [p for p in psets if p["_pset_hash"] not in same]
    other = {
        h
        for h, run in zip(row_hashes, row_runs)
        if run_hashes[run] not in (None, func_hash) and h not in same
    }
    n_other = sum(p["_pset_hash"] in other for p in psets)
    if n_other:
        warnings.warn(
            f"psweep: skip_dups reused the rows of {n_other} psets made by other "
            f"code (the function changed since, or another function made them), "
            f"so their results may be out of date. Re-run them with "
            f"skip_dups={SAME_CODE!r}.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    return todo
