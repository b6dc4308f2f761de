"""The argument parser of the ``psweep`` command and its subcommands."""

from __future__ import annotations

import argparse

from psweep._schema import VERSION
from psweep.cli._export import EXPORT_FORMATS, cmd_export
from psweep.cli._maintain import cmd_check, cmd_compact
from psweep.cli._runs import cmd_runs
from psweep.cli._show import DEFAULT_LIMIT, cmd_show
from psweep.cli._ui import add_ui_commands

__all__ = ["build_parser"]

_TARGET_HELP = "calc dir or database file (default: calc)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``psweep`` command.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> from psweep.cli._parser import build_parser
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
    _add_show(sub)
    _add_runs(sub)
    _add_export(sub)
    _add_maintenance(sub)
    add_ui_commands(sub, _TARGET_HELP)
    return parser


def _add_show(sub: argparse._SubParsersAction) -> None:
    show = sub.add_parser(
        "show",
        help=f"print params and results as a table (first and last {DEFAULT_LIMIT // 2} rows "
        f"of a longer one; failed rows marked FAILED)",
    )
    show.add_argument("target", nargs="?", default="calc", help=_TARGET_HELP)
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
    show.set_defaults(func=cmd_show)


def _add_runs(sub: argparse._SubParsersAction) -> None:
    runs_help = ("one line per run: state (running, finished, killed, interrupted, stopped), "
                 "planned psets, done, failed, start, last row; rows/s and ETA of running runs. "
                 "In a terminal the table fits its width: source left out, then ids shortened, "
                 "years left out of times, then host, start, rows/s and last_row left out")
    for name, help_text in (
        ("runs", runs_help),
        ("status", "watch the runs until none is running (same as 'runs --watch')"),
    ):
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("target", nargs="?", default="calc", help=_TARGET_HELP)
        if name == "runs":
            cmd.add_argument("--watch", action="store_true", help="refresh until no run is running")
        cmd.add_argument("--interval", type=float, default=1.0, metavar="S",
                         help="seconds between refreshes when watching (default: 1)")
        cmd.set_defaults(func=cmd_runs, watch=name == "status")


def _add_export(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser("export", help="write the database as csv, json or parquet")
    export.add_argument("target", nargs="?", default="calc", help=_TARGET_HELP)
    export.add_argument(
        "--to", choices=EXPORT_FORMATS,
        help="format (default: from the -o file's extension, else csv)",
    )
    export.add_argument("-o", "--output", help="output file (default: results.<format>)")
    export.set_defaults(func=cmd_export)


def _add_maintenance(sub: argparse._SubParsersAction) -> None:
    check = sub.add_parser("check", help="pset folders vs rows, pending rows, lock state")
    check.add_argument("target", nargs="?", default="calc", help=_TARGET_HELP)
    check.set_defaults(func=cmd_check)

    compact = sub.add_parser("compact", help="fold pending rows into the database now")
    compact.add_argument("target", nargs="?", default="calc", help=_TARGET_HELP)
    compact.set_defaults(func=cmd_compact)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return value
