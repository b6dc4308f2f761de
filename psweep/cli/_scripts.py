"""psweep 0.16's console scripts, as thin entry points on the same readers as ``psweep``."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence

import pandas as pd

from psweep.cli._common import CliError, github_table, json_ready_or_error, read_target, plain_warnings
from psweep.errors import PsweepError
from psweep.frames import check_calc_dir, df_to_json
from psweep.params import is_missing

__all__ = ["db2json_main", "db2table_main", "checkdir_main", "pull_main", "push_main"]

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
        ready = json_ready_or_error(read_target(args.file), "psweep export --to csv writes it as text")
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
        df = read_target(args.file)
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
            print(github_table(df.reset_index() if args.index else df))
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
        found = check_calc_dir(args.calc_dir, read_target(args.calc_dir))
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
