"""skip_dups: which planned psets have a row already, and whether the same code made it."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from psweep._schema import failed_mask
from psweep.provenance import run_code_hashes
from psweep.errors import ParamsError, caller_stacklevel
from psweep.params import describe, differ_from_rows
from psweep.engine._plan import PlannedPsets

__all__ = ["NOT_GIVEN", "SAME_CODE", "SKIP_DUPS", "check_skip_dups", "skip_done", "warn_repeated"]

SAME_CODE = "same-code"
SKIP_DUPS = (False, True, SAME_CODE)


class _NotGiven:
    """skip_dups's default: acts as False, but a run that repeats done psets says so.

    Its repr is ``False``, so ``help(ps.run)`` shows ``skip_dups=False``.
    """

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "False"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"  # the one instance, also after pickling


NOT_GIVEN = _NotGiven()


def check_skip_dups(value: Any) -> None:
    """Raise ParamsError unless `value` is a skip_dups option.

    Parameters
    ----------
    value
        The option as given.
    """
    if value is not NOT_GIVEN and value not in SKIP_DUPS:
        raise ParamsError(f"skip_dups={value!r}: use one of {SKIP_DUPS}.")


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
    mask = _done_rows(db, psets.hashes)
    todo = _skip_by_code(psets, db, mask, skip_dups, calc_dir, func_hash)
    if psets.left_out and len(todo) < len(psets):
        _warn_skipped_left_out(psets, todo, db.iloc[mask])
    return todo


def _done_rows(db: pd.DataFrame, hashes: list[str], other_than_run: str | None = None) -> np.ndarray:
    """Positions of the successful rows of `db` with one of `hashes`
    (and, if given, of another run than `other_than_run`)."""
    # isin hashes only the run's, where a set of a big database's hashes
    # would take most of the time; the rest looks at matching rows only.
    rows = np.flatnonzero(db["_pset_hash"].isin(hashes).to_numpy())
    if len(rows) and other_than_run is not None and "_run_id" in db.columns:
        rows = rows[db["_run_id"].to_numpy()[rows] != other_than_run]
    if len(rows):
        rows = rows[~failed_mask(db)[rows]]
    return rows


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
            f"code (the function, or prep_batch's templates, changed since, or "
            f"another function made them), "
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


def warn_repeated(
    psets: PlannedPsets,
    db: pd.DataFrame | None,
    run_id: str,
    db_path: str,
    simulate: bool,
    n_own: int = 0,
) -> None:
    """Say once that psets of this run had successful rows before it (skip_dups not given).

    Re-running a study script without ``skip_dups`` doubles it silently
    otherwise. Costs one ``isin`` of the run's hashes over the hash column
    (no Python work per stored row) and O(matching rows).

    Parameters
    ----------
    psets
        The run's planned psets.
    db
        The database after the run (as its final fold wrote it), or before
        it (``save=False``), or None.
    run_id
        The run's ``_run_id``: its own rows do not count.
    db_path
        The database, for the message.
    simulate
        A dry run: it would repeat them.
    n_own
        How many of the rows of `db` this run recorded: a database of only
        those (a study's first run) has nothing earlier to look at.
    """
    if db is None or len(db) <= n_own or not len(psets) or "_pset_hash" not in db.columns:
        return
    rows = _done_rows(db, psets.hashes, other_than_run=run_id)
    if not len(rows):
        return  # the usual case: new psets, or only this run's own rows
    earlier = db.iloc[rows]
    done = set(earlier["_pset_hash"].tolist())
    hashes = psets.hashes
    matched = [index for index, pset_hash in enumerate(hashes) if pset_hash in done]
    differ, keys = differ_from_rows(matched, hashes, psets.left_out, earlier) if psets.left_out else ([], [])
    n_repeated = len(matched) - len(differ)
    run = "dry run" if simulate else "run"
    parts = []
    if n_repeated:
        parts.append(
            f"psweep: {n_repeated} of the {len(psets)} psets of this {run} already had successful "
            f"rows in {db_path} (the same _pset_hash"
            f"{', and the same values of keys the hash leaves out' if psets.left_out else ''}), "
            f"so this {run} {'would repeat' if simulate else 'repeated'} them. Pass "
            f"skip_dups=True to skip psets that are done, or skip_dups=False to repeat them on "
            f"purpose without this notice."
        )
    if differ:
        many = len(differ) > 1
        parts.append(
            f"{'' if n_repeated else 'psweep: '}{len(differ)} {'more ' if n_repeated else ''}"
            f"pset{'s' if many else ''} {'have' if many else 'has'} the _pset_hash of earlier "
            f"rows but {'differ' if many else 'differs'} from them in keys the hash leaves out, "
            f"which skip_dups=True would skip as well: {describe(keys)}"
        )
    warnings.warn(" ".join(parts), UserWarning, stacklevel=caller_stacklevel())
