"""``psweep show``: params and results as a table, failed rows marked."""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from psweep._schema import failed_mask
from psweep.cli._common import CliError, github_table, read_target
from psweep.provenance import group_runs

__all__ = ["DEFAULT_LIMIT", "cmd_show"]

# Rows a table shows by default: the first half and the last half.
DEFAULT_LIMIT = 20


def _last_line(text: object) -> str:
    """The last non-empty line of a traceback: the exception and its message."""
    if not isinstance(text, str):
        return ""
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def _bounded(df: pd.DataFrame, limit: int | None) -> tuple[pd.DataFrame, int | None]:
    """The first and last rows of `df`, `limit` in all, and where the gap is."""
    if limit is None or len(df) <= limit:
        return df, None
    head = (limit + 1) // 2
    return pd.concat([df.iloc[:head], df.iloc[len(df) - (limit - head) :]]), head


def _for_table(df: pd.DataFrame) -> pd.DataFrame:
    """Marks failed rows as FAILED and cuts tracebacks to their last line."""
    if "_failed" in df.columns:
        df = df.assign(_failed=np.where(failed_mask(df), "FAILED", ""))
    if "_exc_txt" in df.columns:
        df = df.assign(_exc_txt=df["_exc_txt"].map(_last_line))
    return df


def cmd_show(args: argparse.Namespace) -> None:
    df = read_target(args.target)
    if args.failed:
        df = df[failed_mask(df)]
    if args.run:
        df = _rows_of_run(df, args.run)
    if args.columns:
        missing = [c for c in args.columns if c not in df.columns]
        if missing:
            raise CliError(
                f"no column {', '.join(map(repr, missing))} in the database; columns are: "
                f"{', '.join(map(str, df.columns))}"
            )
    # A table shows a bounded number of rows by default (pandas-like); csv,
    # a format for programs, shows all unless --limit is given.
    limit = None if args.all_rows else args.limit
    if limit is None and args.format != "csv" and not args.all_rows:
        limit = DEFAULT_LIMIT
    shown, gap_at = _bounded(df, limit)
    if args.columns:
        cols = list(args.columns)
    else:
        cols = [c for c in df.columns if args.all or not str(c).startswith("_")]
        if not args.all and failed_mask(shown).any():
            # Failed rows are marked in front, with the error at the end.
            cols = ["_failed"] + cols + (["_exc_txt"] if "_exc_txt" in df.columns else [])
    rows = shown
    shown = rows[cols]
    n_rows, n_cols = len(df), len(cols)
    if args.format == "csv":
        sys.stdout.write(shown.to_csv(index=False))
        if gap_at is not None:
            print(f"psweep show: {len(shown)} of {n_rows} rows (first {gap_at}, last "
                  f"{len(shown) - gap_at}); --all-rows for all", file=sys.stderr)
        return
    table = _for_table(shown)
    if args.format == "github":
        print(github_table(table, gap_at))
    else:
        lines = table.to_string(index=False).split("\n")
        if gap_at is not None:
            lines.insert(1 + gap_at, "...")
        print("\n".join(lines))
    if gap_at is not None:
        print(f"\n[{n_rows} rows x {n_cols} columns; first {gap_at} and last "
              f"{len(shown) - gap_at} shown: --limit N for more, --all-rows for all]")
    if args.full and "_exc_txt" in table.columns:
        _print_tracebacks(rows)


def _rows_of_run(df: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Rows of the runs whose ``_run_id`` starts with `prefix`.

    The prefix is matched against one id per run, not per row: a string
    test on each of a million rows takes seconds.
    """
    if "_run_id" in df.columns and len(df):
        codes, first_row = group_runs(df)
        ids = df["_run_id"].iloc[first_row].astype(str)
        matching = np.flatnonzero(ids.str.startswith(prefix).to_numpy())
        if len(matching):
            return df[np.isin(codes, matching)]
    raise CliError(f"no run with _run_id starting with {prefix!r}; see 'psweep runs'.")


def _print_tracebacks(rows: pd.DataFrame) -> None:
    """Whole tracebacks of the failed rows among `rows`, after the table."""
    for position, (_, row) in enumerate(rows.iterrows()):
        text = row.get("_exc_txt")
        if isinstance(text, str) and text.strip():
            name = row.get("_pset_id")
            print(f"\n--- traceback of row {position} (_pset_id {name}) ---")
            print(text.rstrip())
