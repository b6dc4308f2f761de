"""skip_dups: which planned psets have a row already, and whether the same code made it."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from psweep.backup import run_code_hashes
from psweep.errors import caller_stacklevel
from psweep.leftout import describe, differ_from_rows
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
    read once per run that made a reused row, never per row. Psets skipped
    although their keys that the hash leaves out differ from those of the
    rows with their hash (``n_``, ``_seed``) are counted in a warning.
    """
    if "_pset_hash" not in db.columns:
        return psets
    mask = _done_mask(db, psets.hashes)
    todo = _skip_by_code(psets, db, mask, skip_dups, calc_dir, func_hash)
    if psets.left_out and len(todo) < len(psets):
        _warn_skipped_left_out(psets, todo, db[mask])
    return todo


def _done_mask(db: pd.DataFrame, hashes: list[str]) -> Any:
    """Boolean array: the successful rows of `db` with one of `hashes`."""
    # isin hashes only the run's, where a set of a big database's hashes
    # would take most of the time.
    mask = db["_pset_hash"].isin(hashes).to_numpy()
    if "_failed" in db.columns:
        mask = mask & ~db["_failed"].fillna(False).astype(bool).to_numpy()
    return mask


def _skip_by_code(
    psets: PlannedPsets,
    db: pd.DataFrame,
    mask: Any,
    skip_dups: bool | str,
    calc_dir: str,
    func_hash: str | None,
) -> PlannedPsets:
    """The psets to run, given the done rows `mask` and the code that made them."""
    row_hashes = db["_pset_hash"].to_numpy()[mask].tolist()
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


def _warn_skipped_left_out(psets: PlannedPsets, todo: PlannedPsets, done_rows: pd.DataFrame) -> None:
    """Warn once if skipped psets differ from the done rows of their hash in left-out keys."""
    kept = set(todo.hashes)
    hashes = psets.hashes
    skipped = [index for index in psets.left_out if hashes[index] not in kept]
    differ, keys = differ_from_rows(skipped, hashes, psets.left_out, done_rows)
    if not differ:
        return
    example = psets[differ[0]]
    shown = {key: example[key] for key in psets.left_out[differ[0]][0]}
    warnings.warn(
        f"psweep: skip_dups skipped {len(differ)} pset{'s' if len(differ) > 1 else ''} "
        f"(e.g. {shown!r:.200}) as done: {'their' if len(differ) > 1 else 'its'} "
        f"_pset_hash has successful rows, but {'their' if len(differ) > 1 else 'its'} "
        f"values of keys the hash leaves out differ from those of every such row, so "
        f"{'they' if len(differ) > 1 else 'it'} never ran. The keys: {describe(keys)}",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )
