"""``psweep runs`` and ``psweep status``: the state of each run, once or watched."""

from __future__ import annotations

import argparse
import shutil
import sys
import time

import pandas as pd

from psweep.cli._common import split_target
from psweep.cli._runs_table import runs_text
from psweep.provenance import runs

__all__ = ["cmd_runs"]


def cmd_runs(args: argparse.Namespace) -> None:
    calc_dir, basename = split_target(args.target)
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
