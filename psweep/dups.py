"""skip_dups: which planned psets have a row already, and whether the same code made it."""

from __future__ import annotations

import warnings

import pandas as pd

from psweep.backup import run_code_hashes
from psweep.errors import caller_stacklevel
from psweep.plan import PlannedPsets

__all__ = ["SAME_CODE", "SKIP_DUPS", "skip_done"]

SAME_CODE = "same-code"
SKIP_DUPS = (False, True, SAME_CODE)


def skip_done(
    psets: PlannedPsets,
    db: pd.DataFrame,
    skip_dups: bool | str,
    calc_dir: str,
    func_hash: str | None,
) -> PlannedPsets:
    """Psets whose hash has no successful row in `db` (failed ones re-run).

    Rows made by other code (by the code hashes runs record) are reused with
    a warning, or not at all with ``skip_dups="same-code"``. The hashes are
    read once per run that made a reused row, never per row.
    """
    if "_pset_hash" not in db.columns:
        return psets
    # The successful rows of this run's hashes: isin hashes only the run's,
    # where a set of a big database's hashes would take most of the time.
    stored = db["_pset_hash"]
    mask = stored.isin(psets.hashes).to_numpy()
    if "_failed" in db.columns:
        mask = mask & ~db["_failed"].fillna(False).astype(bool).to_numpy()
    row_hashes = stored.to_numpy()[mask].tolist()
    done = set(row_hashes)
    todo = psets.without_hashes(done)
    if len(todo) == len(psets) or func_hash is None or "_run_id" not in db.columns:
        return todo
    row_runs = db["_run_id"].to_numpy()[mask].tolist()
    run_hashes = run_code_hashes(calc_dir, set(row_runs))
    if all(h == func_hash for h in run_hashes.values()):
        return todo  # the usual case: the same code made every reused row
    same = {h for h, run in zip(row_hashes, row_runs) if run_hashes[run] == func_hash}
    if skip_dups == SAME_CODE:
        return psets.without_hashes(same)
    other = {
        h
        for h, run in zip(row_hashes, row_runs)
        if run_hashes[run] not in (None, func_hash) and h not in same
    }
    n_other = sum(h in other for h in psets.hashes)
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
