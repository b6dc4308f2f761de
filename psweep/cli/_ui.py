"""``psweep ui`` (a local web view of a calc dir) and ``psweep report`` (one HTML file)."""

from __future__ import annotations

import argparse
import os

from psweep.cli._common import CliError, split_target
from psweep.errors import MissingDependencyError
from psweep.ui import INSTALL, report, require_extra, ui

__all__ = ["add_ui_commands", "cmd_report", "cmd_ui"]


def _need_extra() -> None:
    try:
        require_extra()
    except MissingDependencyError as exc:
        raise CliError(f"needs the ui extra (Dash and Plotly): {INSTALL}") from exc


def _calc_dir(target: str) -> tuple[str, str]:
    if not os.path.exists(target):
        raise CliError(f"{target!r}: no such calc dir or database file")
    return split_target(target)


def cmd_ui(args: argparse.Namespace) -> None:
    _need_extra()
    calc_dir, basename = _calc_dir(args.target)
    ui(calc_dir, port=args.port, host=args.host, open_browser=not args.no_browser, database_basename=basename)


def cmd_report(args: argparse.Namespace) -> None:
    _need_extra()
    calc_dir, basename = _calc_dir(args.target)
    rep = report(calc_dir, args.output, database_basename=basename)
    print(f"psweep report: wrote {rep.path}")


def add_ui_commands(sub: argparse._SubParsersAction, target_help: str) -> None:
    """Add the ``ui`` and ``report`` subcommands to the parser's `sub`."""
    cmd = sub.add_parser(
        "ui", help="serve a local web view of a calc dir: runs, results (table and plots), "
        "failures, coverage, psets (needs the ui extra)",
    )
    cmd.add_argument("target", nargs="?", default="calc", help=target_help)
    cmd.add_argument("--port", type=int, default=0, help="TCP port (default: a free one, printed on start)")
    cmd.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default: 127.0.0.1, this machine only)")
    cmd.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    cmd.set_defaults(func=cmd_ui)
    rep = sub.add_parser(
        "report", help="write one self-contained HTML file of a calc dir: runs, plots, failures, "
        "coverage (needs the ui extra)",
    )
    rep.add_argument("target", nargs="?", default="calc", help=target_help)
    rep.add_argument("-o", "--output", help="HTML file (default: <calc_dir>/report.html)")
    rep.set_defaults(func=cmd_report)
