"""The ``psweep`` command: look at, export, check and compact a database.

Every subcommand reads through :func:`psweep.df_read`, so rows still in
journals are included. Problems (missing or corrupt database, bad column)
print one line to stderr and exit with code 2, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from psweep.cli._common import CliError, plain_warnings
from psweep.cli._parser import build_parser
from psweep.errors import PsweepError

__all__ = ["main"]


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
