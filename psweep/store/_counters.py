"""Run and pset numbers (``_run_seq``, ``_pset_seq``) unique among all runs of a database.

The counters file holds the last numbers handed out: JSON padded to a fixed
size, so that each rewrite in place covers the previous text, with a check
value of the numbers. A missing or damaged file is rebuilt from the rows.
"""

from __future__ import annotations

import fcntl
import json
import os
import zlib
from collections.abc import Callable

import pandas as pd

__all__ = ["reserve_seqs"]

_COUNTERS_SIZE = 96


def reserve_seqs(
    counters_path: str,
    n_psets: int,
    rows: Callable[[], pd.DataFrame | None],
    at_least: tuple[int, int] = (0, 0),
) -> tuple[int, int]:
    """Hand out a ``_run_seq`` and a block of `n_psets` ``_pset_seq``.

    Call with the database lock held.

    Parameters
    ----------
    counters_path
        The counters file; it and its folder are created.
    n_psets
        How many pset numbers the run needs.
    rows
        Gives every row of the database (or None if it has none); called
        only when the counters file is missing or damaged (databases of
        older psweep versions).
    at_least
        Lowest ``_run_seq`` and first ``_pset_seq`` to hand out.

    Returns
    -------
    run_seq, first_pset_seq
    """
    os.makedirs(os.path.dirname(counters_path), exist_ok=True)
    fd = os.open(counters_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        # Locked on its own as well: two processes may both believe
        # they hold the database lock when its file was deleted.
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = os.read(fd, 4096)
        counters = _parse_counters(data)
        if counters is None:  # new, or damaged: rebuild from the rows
            counters = _counters_of(rows())
        run_seq = max(counters["run_seq"] + 1, at_least[0])
        first = max(counters["pset_seq"] + 1, at_least[1])
        # Rewritten in place, one small write, under the lock: much
        # cheaper than a temp file and rename. A write torn by a power
        # cut fails the check and the counters are rebuilt.
        text = _format_counters(run_seq, first + n_psets - 1)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, text)
        if len(data) > len(text):  # a damaged, longer file
            os.ftruncate(fd, len(text))
    finally:
        os.close(fd)
    return run_seq, first


def _counters_of(db: pd.DataFrame | None) -> dict[str, int]:
    """The last numbers the rows of `db` hold (-1 where none)."""
    counters = {"run_seq": -1, "pset_seq": -1}
    for col, key in (("_run_seq", "run_seq"), ("_pset_seq", "pset_seq")):
        if db is not None and col in db.columns and db[col].notna().any():
            counters[key] = int(db[col].max())
    return counters


def _counters_check(run_seq: int, pset_seq: int) -> int:
    return zlib.crc32(f"{run_seq} {pset_seq}".encode())


def _format_counters(run_seq: int, pset_seq: int) -> bytes:
    text = json.dumps(
        {"run_seq": run_seq, "pset_seq": pset_seq, "check": _counters_check(run_seq, pset_seq)}
    )
    return text.encode().ljust(_COUNTERS_SIZE)


def _parse_counters(data: bytes) -> dict[str, int] | None:
    """The counters in `data`, or None if missing or damaged."""
    try:
        counters = json.loads(data)
        run_seq, pset_seq = int(counters["run_seq"]), int(counters["pset_seq"])
        check = counters["check"]
    except (ValueError, KeyError, TypeError):
        return None
    if check != _counters_check(run_seq, pset_seq):
        return None
    return {"run_seq": run_seq, "pset_seq": pset_seq}
