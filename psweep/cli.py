"""The ``psweep`` command: look at, export, check and compact a database.

Every subcommand reads through :func:`psweep.df_read`, so rows still in
journals are included. Problems (missing or corrupt database, bad column)
print one line to stderr and exit with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import pandas as pd

from psweep.compat import describe_path, resolve_database
from psweep.errors import PsweepError
from psweep.store import Store, df_read

__all__ = ["main"]

DEFAULT_BASENAME = "results.pk"


class CliError(Exception):
    """A problem to report in one line, exit code 2."""


def _split_target(target: str) -> tuple[str, str]:
    """(calc_dir, database_basename) from a calc dir or a database path."""
    calc_dir, basename = resolve_database(target, reading=True)
    if not os.path.exists(os.path.join(calc_dir, basename)) and not os.path.isdir(target):
        raise CliError(f"{target!r}: no such calc dir or database file; found {describe_path(target)}")
    return calc_dir, basename


def _read(target: str) -> pd.DataFrame:
    calc_dir, basename = _split_target(target)
    return df_read(os.path.join(calc_dir, basename))


def _github_table(df: pd.DataFrame) -> str:
    cells = [[str(c) for c in df.columns]]
    cells += [["" if pd.isna(v) else str(v) for v in row] for row in df.itertuples(index=False)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(df.columns))]

    def line(row: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(row, widths)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def _cmd_show(args: argparse.Namespace) -> None:
    df = _read(args.target)
    if args.failed:
        df = df[df["_failed"].fillna(False).astype(bool)] if "_failed" in df.columns else df.iloc[0:0]
    if args.run:
        matches = df["_run_id"].astype(str).str.startswith(args.run)
        if not matches.any():
            raise CliError(f"no run with _run_id starting with {args.run!r}; see 'psweep runs'.")
        df = df[matches]
    if args.columns:
        missing = [c for c in args.columns if c not in df.columns]
        if missing:
            raise CliError(
                f"no column {', '.join(map(repr, missing))} in the database; columns are: "
                f"{', '.join(map(str, df.columns))}"
            )
        cols = list(args.columns)
    else:
        cols = [c for c in df.columns if args.all or not str(c).startswith("_")]
    df = df[cols]
    if args.format == "csv":
        sys.stdout.write(df.to_csv(index=False))
    elif args.format == "github":
        print(_github_table(df))
    else:
        print(df.to_string(index=False))


def _cmd_runs(args: argparse.Namespace) -> None:
    df = _read(args.target)
    calc_dir, _ = _split_target(args.target)
    if len(df) == 0:
        print("no runs")
        return
    end = df["_time_utc"] + pd.to_timedelta(df["_pset_runtime"].fillna(0), unit="s")
    failed = df["_failed"].fillna(False).astype(bool) if "_failed" in df.columns else False
    table = (
        df.assign(_end=end, _nfailed=failed)
        .groupby("_run_id", sort=False)
        .agg(
            start=("_time_utc", "min"),
            end=("_end", "max"),
            rows=("_pset_id", "size"),
            failed=("_nfailed", "sum"),
            host=("_exec_host", lambda h: ",".join(sorted(set(h.dropna().astype(str)))) or "-"),
        )
        .sort_values("start")
    )
    sources = []
    for run_id in table.index:
        path = os.path.join(calc_dir, "backup_script", f"{run_id}.py")
        sources.append(path if os.path.exists(path) else "-")
    table["source"] = sources
    table["failed"] = table["failed"].astype(int)
    print(table.reset_index().to_string(index=False))


def _cmd_export(args: argparse.Namespace) -> None:
    df = _read(args.target)
    out = args.output or f"{os.path.splitext(_split_target(args.target)[1])[0]}.{args.to}"
    if args.to == "csv":
        df.to_csv(out, index=False)
    elif args.to == "json":
        df.to_json(out, orient="records", date_format="iso", date_unit="ns", indent=1)
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


def _cmd_check(args: argparse.Namespace) -> None:
    calc_dir, basename = _split_target(args.target)
    store = Store(calc_dir, basename)
    if not store.exists():
        raise CliError(f"no psweep database in {calc_dir!r}")
    # Read only: check must not change what it reports on.
    journals = store.journal_status()
    df = store.with_pending(store.read_db_file())
    ids = set(df["_pset_id"].astype(str)) if "_pset_id" in df.columns else set()
    folders = {
        name for name in os.listdir(calc_dir)
        if os.path.isdir(os.path.join(calc_dir, name)) and len(name) == 36 and name.count("-") == 4
    }
    print(f"database: {store.db_path} ({len(df)} rows incl. pending)")
    print(f"pset folders: {len(folders & ids)} with a row, {len(folders - ids)} without a row")
    for name in sorted(folders - ids):
        print(f"  no row: {os.path.join(calc_dir, name)}")
    pending = sum(n for _, _, n in journals)
    print(f"pending rows: {pending} in {len(journals)} journals "
          f"({sum(1 for _, live, _ in journals if live)} of live runs)")
    print(f"lock {store.lock_path}: {'free' if store.lock_is_free() else 'held'}")


def _cmd_compact(args: argparse.Namespace) -> None:
    calc_dir, basename = _split_target(args.target)
    store = Store(calc_dir, basename)
    before = sum(n for _, live, n in store.journal_status() if not live)
    with store.locked():
        db = store.fold()
    left = store.journal_status()
    print(f"folded {before} pending rows of finished runs; {store.db_path} has {len(db)} rows; "
          f"{sum(n for _, _, n in left)} rows of live runs still pending")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``psweep`` command.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="psweep", description="Look at and maintain psweep databases."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    target_help = "calc dir or database file (default: calc)"

    show = sub.add_parser("show", help="print params and results as a table")
    show.add_argument("target", nargs="?", default="calc", help=target_help)
    show.add_argument("columns", nargs="*", help="columns to show (default: all but _ ones)")
    show.add_argument("--all", action="store_true", help="include _ bookkeeping columns")
    show.add_argument("--failed", action="store_true", help="only failed psets")
    show.add_argument("--run", metavar="RUN_ID", help="only this run (a prefix is enough)")
    show.add_argument("--format", choices=["plain", "github", "csv"], default="plain")
    show.set_defaults(func=_cmd_show)

    runs = sub.add_parser("runs", help="one line per run")
    runs.add_argument("target", nargs="?", default="calc", help=target_help)
    runs.set_defaults(func=_cmd_runs)

    export = sub.add_parser("export", help="write the database as csv, json or parquet")
    export.add_argument("target", help=target_help)
    export.add_argument("--to", choices=["csv", "json", "parquet"], required=True)
    export.add_argument("-o", "--output", help="output file (default: results.<format>)")
    export.set_defaults(func=_cmd_export)

    check = sub.add_parser("check", help="pset folders vs rows, pending rows, lock state")
    check.add_argument("target", nargs="?", default="calc", help=target_help)
    check.set_defaults(func=_cmd_check)

    compact = sub.add_parser("compact", help="fold pending rows into the database now")
    compact.add_argument("target", nargs="?", default="calc", help=target_help)
    compact.set_defaults(func=_cmd_compact)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``psweep`` command.

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code: 0 on success, 2 on a reported problem.
    """
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
    except (CliError, PsweepError, OSError) as exc:
        print(f"psweep {args.command}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
