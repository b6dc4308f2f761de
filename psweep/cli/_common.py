"""What every psweep command shares: the target it reads, one-line errors, plain warnings."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from typing import TextIO

import pandas as pd

from psweep.frames import json_ready
from psweep.params import is_missing
from psweep.store import describe_path, df_read, resolve_database

__all__ = ["CliError", "split_target", "read_target", "github_table", "json_ready_or_error", "plain_warnings"]


class CliError(Exception):
    """A problem to report in one line, exit code 2."""


def split_target(target: str) -> tuple[str, str]:
    """(calc_dir, database_basename) from a calc dir or a database path."""
    calc_dir, basename = resolve_database(target, reading=True)
    if not os.path.exists(os.path.join(calc_dir, basename)) and not os.path.isdir(target):
        raise CliError(f"{target!r}: no such calc dir or database file; found {describe_path(target)}")
    return calc_dir, basename


def read_target(target: str) -> pd.DataFrame:
    """The database `target` names (a calc dir or a database file), pending rows included."""
    calc_dir, basename = split_target(target)
    return df_read(os.path.join(calc_dir, basename))


def github_table(df: pd.DataFrame, gap_at: int | None = None) -> str:
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


def json_ready_or_error(df: pd.DataFrame, fix: str) -> pd.DataFrame:
    """`df` with values JSON lacks encoded (see json_ready), or a CliError naming `fix`."""
    try:
        return json_ready(df)
    except TypeError as exc:
        raise CliError(f"{exc} ({fix}).") from exc


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
    >>> from psweep.cli._common import plain_warnings
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
