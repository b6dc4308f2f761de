"""``psweep export``: the database as csv, json or parquet."""

from __future__ import annotations

import argparse
import os

import pandas as pd

from psweep.cli._common import CliError, json_ready_or_error, read_target, split_target

__all__ = ["EXPORT_FORMATS", "cmd_export"]

EXPORT_FORMATS = ("csv", "json", "parquet")


def _export_format(args: argparse.Namespace) -> str:
    if args.to:
        return args.to
    if args.output is None:
        return "csv"
    ext = os.path.splitext(args.output)[1].lstrip(".").lower()
    if ext not in EXPORT_FORMATS:
        raise CliError(
            f"cannot tell the format from the output file {args.output!r}; "
            f"pass --to {'|'.join(EXPORT_FORMATS)}."
        )
    return ext


def _export_json(df: pd.DataFrame, out: str) -> None:
    """Write `df` to `out` as JSON records, values JSON lacks encoded."""
    ready = json_ready_or_error(df, "psweep export --to csv")
    ready.to_json(out, orient="records", date_format="iso", date_unit="ns", indent=1)


def cmd_export(args: argparse.Namespace) -> None:
    fmt = _export_format(args)
    df = read_target(args.target)
    out = args.output or f"{os.path.splitext(split_target(args.target)[1])[0]}.{fmt}"
    if fmt == "csv":
        df.to_csv(out, index=False)
    elif fmt == "json":
        _export_json(df, out)
    else:
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise CliError("parquet export needs pyarrow: pip install pyarrow") from exc
        try:
            df.to_parquet(out, index=False)
        except Exception as exc:
            raise CliError(f"parquet cannot store this database: {exc}; use --to json") from exc
    print(f"wrote {len(df)} rows to {out}")
