"""The ``psweep`` command: look at, export, check and compact a database.

Every subcommand reads through :func:`psweep.df_read`, so rows still in
journals are included. Problems (missing or corrupt database, bad column)
print one line to stderr and exit with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TextIO

import numpy as np
import pandas as pd

from psweep.store import resolve_database
from psweep.store import describe_path
from psweep.errors import PsweepError
from psweep.params import is_missing
from psweep.frames import check_calc_dir, df_to_json, json_ready
from psweep._schema import VERSION, failed_mask
from psweep.cli._runs_table import runs_text
from psweep.provenance import group_runs, runs
from psweep.store import Store, df_read

__all__ = ["main", "db2json_main", "db2table_main", "checkdir_main", "pull_main", "push_main"]

# Rows a table shows by default: the first half and the last half.
DEFAULT_LIMIT = 20
EXPORT_FORMATS = ("csv", "json", "parquet")


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


def _github_table(df: pd.DataFrame, gap_at: int | None = None) -> str:
    """`df` as a GitHub markdown table; a row of ``...`` before row `gap_at`."""
    cells = [[str(c) for c in df.columns]]
    cells += [
        ["" if is_missing(v) else str(v).replace("\n", " ") for v in row] for row in df.itertuples(index=False)
    ]
    if gap_at is not None:
        cells.insert(1 + gap_at, ["..."] * len(df.columns))
    widths = [max(len(r[i]) for r in cells) for i in range(len(df.columns))]

    def line(row: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(row, widths)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


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


def _cmd_show(args: argparse.Namespace) -> None:
    df = _read(args.target)
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
        print(_github_table(table, gap_at))
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


def _cmd_runs(args: argparse.Namespace) -> None:
    calc_dir, basename = _split_target(args.target)
    tty = sys.stdout.isatty()
    if not args.watch:
        print(runs_text(runs(calc_dir, basename), _terminal_width(tty)))
        return
    last = None
    try:
        while True:
            table = runs(calc_dir, basename)
            n_live = int((table["state"] == "running").sum())
            width = _terminal_width(tty)  # read each time: the window may be resized
            text = runs_text(table, width)
            stamp = pd.Timestamp.now().strftime("%H:%M:%S")
            head = f"psweep {args.command} {args.target}  {stamp}  {n_live} running"
            if tty:
                # Home and clear, then redraw: the table stays in place.
                head += " (Ctrl-C to stop watching)"
                sys.stdout.write(f"\x1b[H\x1b[2J{head[:width]}\n{text}\n")
                sys.stdout.flush()
            else:
                # Not a terminal (a log, a pipe): a new table only when a
                # run's state or counts changed, not for each rate update.
                key = table[["_run_id", "state", "done", "failed"]].to_numpy().tolist()
                if key != last:
                    print(f"{head}\n{text}\n", flush=True)
                last = key
            if n_live == 0:
                return
            time.sleep(args.interval)
    except KeyboardInterrupt:
        print()


def _terminal_width(tty: bool) -> int | None:
    """Columns of the terminal stdout is, or None (a pipe or a file: no limit)."""
    return shutil.get_terminal_size().columns if tty else None


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


def _json_ready(df: pd.DataFrame, fix: str) -> pd.DataFrame:
    """`df` with values JSON lacks encoded (see json_ready), or a CliError naming `fix`."""
    try:
        return json_ready(df)
    except TypeError as exc:
        raise CliError(f"{exc} ({fix}).") from exc


def _export_json(df: pd.DataFrame, out: str) -> None:
    """Write `df` to `out` as JSON records, values JSON lacks encoded."""
    ready = _json_ready(df, "psweep export --to csv")
    ready.to_json(out, orient="records", date_format="iso", date_unit="ns", indent=1)


def _cmd_export(args: argparse.Namespace) -> None:
    fmt = _export_format(args)
    df = _read(args.target)
    out = args.output or f"{os.path.splitext(_split_target(args.target)[1])[0]}.{fmt}"
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


def _cmd_check(args: argparse.Namespace) -> None:
    calc_dir, basename = _split_target(args.target)
    store = Store(calc_dir, basename)
    if not store.exists():
        raise CliError(f"no psweep database in {calc_dir!r}")
    # Read only: check must not change what it reports on.
    journals = store.journal_status()
    df = store.with_pending()
    folders = {
        name for name in os.listdir(calc_dir)
        if os.path.isdir(os.path.join(calc_dir, name)) and len(name) == 36 and name.count("-") == 4
    }
    # Only ids that have a folder: a set of a million ids costs seconds.
    ids = set(df["_pset_id"][df["_pset_id"].isin(folders)]) if "_pset_id" in df.columns else set()
    print(f"database: {store.db_path} ({len(df)} rows incl. pending)")
    print(f"pset folders: {len(folders & ids)} with a row, {len(folders - ids)} without a row")
    for name in sorted(folders - ids):
        print(f"  no row: {os.path.join(calc_dir, name)}")
    pending = sum(n for _, _, n in journals)
    print(f"pending rows: {pending} in {len(journals)} journals "
          f"({sum(1 for _, live, _ in journals if live)} of live runs)")
    quarantined = store.quarantined()
    print(f"quarantined journals (unreadable records, rows kept): {len(quarantined)}")
    for path in quarantined:
        print(f"  {path}")
    try:
        lock_state = "free" if store.lock_is_free() else "held"
    except OSError as exc:  # a read-only mount, say
        lock_state = f"cannot be taken here ({exc.strerror or exc})"
    print(f"lock {store.lock_path}: {lock_state}")


def _cmd_compact(args: argparse.Namespace) -> None:
    calc_dir, basename = _split_target(args.target)
    store = Store(calc_dir, basename)
    if not store.exists():
        # Checked before taking the lock, which would create a file here.
        raise CliError(
            f"no psweep database to compact in {calc_dir!r}, which is {describe_path(calc_dir)}; "
            f"nothing was written. Pass a calc dir (default: calc) or a database file."
        )
    before = sum(n for _, live, n in store.journal_status() if not live)
    with store.locked():
        db = store.fold()
    left = store.journal_status()
    print(f"folded {before} pending rows of finished runs; {store.db_path} has {len(db)} rows; "
          f"{sum(n for _, _, n in left)} rows of live runs still pending")


@contextlib.contextmanager
def plain_warnings() -> Iterator[None]:
    """Show warnings as one plain line on stderr, without Python's source line.

    The notices psweep gives as warnings in Python (such as using a 0.16
    calc dir's ``database.pk``) are meant for the user of the command, not
    for a programmer: ``psweep: ...``, not ``.../compat.py:123:
    UserWarning: ...`` and a line of code.

    Examples
    --------
    >>> import contextlib, io, warnings
    >>> from psweep.cli._main import plain_warnings
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err), plain_warnings():
    ...     warnings.warn("psweep: a notice", UserWarning)
    >>> err.getvalue()
    'psweep: a notice\\n'
    """
    with warnings.catch_warnings():
        warnings.showwarning = _show_plain
        yield


def _show_plain(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                file: TextIO | None = None, line: str | None = None) -> None:
    text = " ".join(str(message).split())
    if not text.startswith("psweep"):
        text = f"{category.__name__}: {text}"
    print(text, file=sys.stderr if file is None else file, flush=True)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``psweep`` command.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> from psweep.cli._main import build_parser
    >>> build_parser().parse_args(["show", "--limit", "6"]).limit
    6
    """
    parser = argparse.ArgumentParser(
        prog="psweep",
        description="Look at and maintain psweep databases.",
        epilog=(
            "examples: 'psweep runs' (state of each run: running, finished, killed, "
            "interrupted; ETA of running ones), 'psweep status' (watch until no run "
            "is running), 'psweep show --failed --full' (failed psets with their "
            "tracebacks), 'psweep export -o results.csv'."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True)
    target_help = "calc dir or database file (default: calc)"

    show = sub.add_parser(
        "show",
        help=f"print params and results as a table (first and last {DEFAULT_LIMIT // 2} rows "
        f"of a longer one; failed rows marked FAILED)",
    )
    show.add_argument("target", nargs="?", default="calc", help=target_help)
    show.add_argument("columns", nargs="*", help="columns to show (default: all but _ ones)")
    show.add_argument("--all", action="store_true", help="include _ bookkeeping columns")
    show.add_argument("--failed", action="store_true", help="only failed psets")
    show.add_argument("--run", metavar="RUN_ID", help="only this run (a prefix is enough)")
    show.add_argument("--format", choices=["plain", "github", "csv"], default="plain")
    show.add_argument(
        "--limit", type=_positive_int, metavar="N",
        help=f"show the first and last rows, N in all (default for tables: {DEFAULT_LIMIT}; "
        f"csv shows all rows unless given)",
    )
    show.add_argument("--all-rows", action="store_true", help="show every row")
    show.add_argument(
        "--full", action="store_true",
        help="print the whole tracebacks of failed psets after the table (cells show "
        "the last line of _exc_txt)",
    )
    show.set_defaults(func=_cmd_show)

    runs_help = ("one line per run: state (running, finished, killed, interrupted, stopped), "
                 "planned psets, done, failed, start, last row; rows/s and ETA of running runs. "
                 "In a terminal the table fits its width: source left out, then ids shortened, "
                 "years left out of times, then host, start, rows/s and last_row left out")
    for name, help_text in (
        ("runs", runs_help),
        ("status", "watch the runs until none is running (same as 'runs --watch')"),
    ):
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("target", nargs="?", default="calc", help=target_help)
        if name == "runs":
            cmd.add_argument("--watch", action="store_true", help="refresh until no run is running")
        cmd.add_argument("--interval", type=float, default=1.0, metavar="S",
                         help="seconds between refreshes when watching (default: 1)")
        cmd.set_defaults(func=_cmd_runs, watch=name == "status")

    export = sub.add_parser("export", help="write the database as csv, json or parquet")
    export.add_argument("target", nargs="?", default="calc", help=target_help)
    export.add_argument(
        "--to", choices=EXPORT_FORMATS,
        help="format (default: from the -o file's extension, else csv)",
    )
    export.add_argument("-o", "--output", help="output file (default: results.<format>)")
    export.set_defaults(func=_cmd_export)

    check = sub.add_parser("check", help="pset folders vs rows, pending rows, lock state")
    check.add_argument("target", nargs="?", default="calc", help=target_help)
    check.set_defaults(func=_cmd_check)

    compact = sub.add_parser("compact", help="fold pending rows into the database now")
    compact.add_argument("target", nargs="?", default="calc", help=target_help)
    compact.set_defaults(func=_cmd_compact)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return value


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
        with plain_warnings():
            args.func(args)
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
    except (CliError, PsweepError, OSError) as exc:
        print(f"psweep {args.command}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


# ---------------------------------------------------------------------------
# psweep 0.16's console scripts, as thin entry points on the same readers
# ---------------------------------------------------------------------------

_ORIENTS = ["split", "records", "index", "columns", "values"]
_RSYNC_DEFAULT_OPTS = ["-rptgoD", "-vP"]


def _script(
    prog: str,
    body: Callable[[argparse.Namespace], int | None],
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
) -> int:
    """Parse `argv`, run `body`; a reported problem is one line on stderr, exit 2."""
    args = parser.parse_args(argv)
    try:
        with plain_warnings():
            return body(args) or 0
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
    except (CliError, PsweepError, OSError, ValueError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2


def db2json_main(argv: Sequence[str] | None = None) -> int:
    """``psweep-db2json [-o ORIENT] FILE``: print a database as JSON (0.16's script).

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0, or 2 on a reported problem.

    Examples
    --------
    >>> import psweep as ps
    >>> from psweep.cli import db2json_main
    >>> _ = ps.run(lambda p: {"y_": p["a"] * 2}, ps.plist("a", [1]))
    >>> db2json_main(["-o", "values", "calc"]) == 0  # doctest: +ELLIPSIS
    [[1,2,...]]
    True
    """
    parser = argparse.ArgumentParser(
        prog="psweep-db2json",
        description="Print a psweep database as JSON, e.g. for jq: psweep-db2json calc | jq .",
    )
    parser.add_argument("-o", dest="orient", default="records", choices=_ORIENTS,
                        help="DataFrame.to_json(orient=...) (default: records)")
    parser.add_argument("file", help="database file or calc dir")

    def body(args: argparse.Namespace) -> None:
        ready = _json_ready(_read(args.file), "psweep export --to csv writes it as text")
        print(df_to_json(ready, orient=args.orient))

    return _script("psweep-db2json", body, parser, argv)


def _simple_table(df: pd.DataFrame, index: bool) -> str:
    """tabulate's 'simple' look: header, dashes, rows; numbers right-aligned."""
    if index:
        df = df.reset_index()
    cells = [[str(c) for c in df.columns]]
    cells += [["" if is_missing(v) else str(v) for v in row] for row in df.itertuples(index=False)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(df.columns))]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]

    def line(row: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(row, widths, numeric))

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]])


def db2table_main(argv: Sequence[str] | None = None) -> int:
    """``psweep-db2table [-f FMT] [-a] [-i] FILE [COLUMN ...]``: print a table (0.16's script).

    Any ``-f`` format of the tabulate package works when tabulate is
    installed; without it ``simple``, ``plain``, ``github``/``pipe`` work.

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0, or 2 on a reported problem.

    Examples
    --------
    >>> import psweep as ps
    >>> from psweep.cli import db2table_main
    >>> _ = ps.run(lambda p: {"y_": p["a"] * 2}, ps.plist("a", [1, 2]))
    >>> db2table_main(["-f", "github", "calc"])
    | a | y_ |
    |---|----|
    | 1 | 2  |
    | 2 | 4  |
    0
    """
    parser = argparse.ArgumentParser(
        prog="psweep-db2table", description="Print a psweep database as a table."
    )
    parser.add_argument("-f", dest="tablefmt", default="simple",
                        help="table format (tabulate's names; default: simple)")
    parser.add_argument("-a", dest="all", action="store_true",
                        help="all columns, also _ bookkeeping ones (ignores COLUMN)")
    parser.add_argument("-i", dest="index", action="store_true", help="print the index")
    parser.add_argument("file", help="database file or calc dir")
    parser.add_argument("columns", nargs="*", metavar="COLUMN", help="columns to show")

    def body(args: argparse.Namespace) -> None:
        df = _read(args.file)
        if not args.all:
            cols = args.columns or [c for c in df.columns if not str(c).startswith("_")]
            missing = [c for c in cols if c not in df.columns]
            if missing:
                raise CliError(f"no column {', '.join(map(repr, missing))}; columns are: "
                               f"{', '.join(map(str, df.columns))}")
            df = df[cols]
        try:
            from tabulate import tabulate
        except ImportError:
            tabulate = None
        if tabulate is not None:
            print(tabulate(df, headers="keys", tablefmt=args.tablefmt, showindex=args.index))
        elif args.tablefmt in ("simple", "plain"):
            print(_simple_table(df, args.index) if args.tablefmt == "simple" else df.to_string(index=args.index))
        elif args.tablefmt in ("github", "pipe"):
            print(_github_table(df.reset_index() if args.index else df))
        else:
            raise CliError(f"-f {args.tablefmt} needs the tabulate package (pip install tabulate); "
                           f"without it use simple, plain or github")

    return _script("psweep-db2table", body, parser, argv)


def checkdir_main(argv: Sequence[str] | None = None) -> int:
    """``psweep-checkdir CALC_DIR``: pset folders vs database rows as JSON (0.16's script).

    Prints ``{"db_not_disk": [...], "disk_not_db": [...]}`` from
    :func:`psweep.check_calc_dir`.

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0, or 2 on a reported problem.

    Examples
    --------
    >>> import psweep as ps
    >>> from psweep.cli import checkdir_main
    >>> _ = ps.run(lambda p: {}, ps.plist("a", [1]))
    >>> checkdir_main(["calc"])  # doctest: +ELLIPSIS
    {"db_not_disk": ["..."], "disk_not_db": []}
    0
    """
    parser = argparse.ArgumentParser(
        prog="psweep-checkdir",
        description="Compare <calc_dir>/<_pset_id>/ folders with the database rows.",
    )
    parser.add_argument("calc_dir", metavar="CALC_DIR")

    def body(args: argparse.Namespace) -> None:
        if not os.path.isdir(args.calc_dir):
            raise CliError(f"{args.calc_dir!r} is not a calc dir")
        found = check_calc_dir(args.calc_dir, _read(args.calc_dir))
        print(json.dumps({key: sorted(ids) for key, ids in found.items()}))

    return _script("psweep-checkdir", body, parser, argv)


def _rsync_parser(prog: str, direction: str) -> argparse.ArgumentParser:
    rules = "excl_pull" if direction == "pull" else "excl_push"
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            f"rsync ./calc {'from' if direction == 'pull' else 'to'} HOST, at the same path "
            f"relative to $HOME on both machines. Default rsync options: "
            f"{' '.join(_RSYNC_DEFAULT_OPTS)} (symlinks are not copied; add -l or -L). "
            f"Rules files here are used: {rules} or rsync.exclude (--exclude-from), "
            f"rsync.rules or rsync.filter (--filter='merge FILE'). Try -n (dry run) first."
        ),
    )
    parser.add_argument("host", metavar="HOST")
    parser.add_argument("rsync_opts", nargs=argparse.REMAINDER, metavar="RSYNC_OPT",
                        help="extra rsync options, e.g. -n or -L")
    return parser


def _rsync_argv(direction: str, extra: Sequence[str]) -> tuple[str, list[str]]:
    """(remote calc path, rsync options) as 0.16's scripts built them."""
    cwd, home = os.getcwd(), os.path.expanduser("~")
    basedir = os.path.relpath(cwd, home) if cwd.startswith(home.rstrip("/") + "/") else cwd
    opts = _RSYNC_DEFAULT_OPTS + list(extra)
    for name in ("excl_pull" if direction == "pull" else "excl_push", "rsync.exclude"):
        if os.path.exists(name):
            opts.append(f"--exclude-from={name}")
    for name in ("rsync.rules", "rsync.filter"):
        if os.path.exists(name):
            opts.append(f"--filter=merge {name}")
    return f"{basedir}/calc", opts


def _run_shown(cmd: list[str]) -> int:
    print(f"executing: {shlex.join(cmd)}", flush=True)
    try:
        return subprocess.run(cmd, check=False).returncode
    except FileNotFoundError as exc:
        raise CliError(f"{cmd[0]} is not installed (or not on PATH)") from exc


def pull_main(argv: Sequence[str] | None = None) -> int:
    """``psweep-pull HOST [RSYNC_OPT ...]``: rsync ``calc`` from HOST here (0.16's script).

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        rsync's exit code, or 2 on a reported problem.

    Examples
    --------
    >>> from psweep.cli import pull_main
    >>> try:
    ...     pull_main(["--help"])
    ... except SystemExit as exc:
    ...     print("exit code", exc.code)
    usage: psweep-pull [-h] HOST ...
    ...
    exit code 0
    """
    parser = _rsync_parser("psweep-pull", "pull")

    def body(args: argparse.Namespace) -> int:
        remote, opts = _rsync_argv("pull", args.rsync_opts)
        return _run_shown(["rsync", *opts, f"{args.host}:{remote}", "./"])

    return _script("psweep-pull", body, parser, argv)


def push_main(argv: Sequence[str] | None = None) -> int:
    """``psweep-push HOST [RSYNC_OPT ...]``: rsync ``calc`` here to HOST (0.16's script).

    Creates the remote folder first (``ssh HOST mkdir -pv ...``).

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        rsync's (or ssh's) exit code, or 2 on a reported problem.

    Examples
    --------
    >>> from psweep.cli import push_main
    >>> try:
    ...     push_main(["--help"])
    ... except SystemExit as exc:
    ...     print("exit code", exc.code)
    usage: psweep-push [-h] HOST ...
    ...
    exit code 0
    """
    parser = _rsync_parser("psweep-push", "push")

    def body(args: argparse.Namespace) -> int:
        remote, opts = _rsync_argv("push", args.rsync_opts)
        code = _run_shown(["ssh", args.host, f"mkdir -pv {shlex.quote(remote)}"])
        if code:
            return code
        return _run_shown(["rsync", *opts, "calc/", f"{args.host}:{remote}/"])

    return _script("psweep-push", body, parser, argv)
