"""What the view of one pset shows: its row, its files, its run's provenance, source diffs.

Files are served only from below the calc dir: every path is resolved
with ``os.path.realpath`` (symlinks followed) and refused unless it stays
inside the resolved calc dir.
"""

from __future__ import annotations

import difflib
import os
from typing import Any

import pandas as pd

from psweep.provenance import read_record, record_path, source_path

__all__ = ["IMAGE_SUFFIXES", "pset_files", "pset_row", "provenance_of", "safe_path", "source_diff"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
# Bytes of a text file the view shows at most.
TEXT_LIMIT = 100_000


def safe_path(calc_dir: str, relative: str) -> str | None:
    """The file `relative` names below `calc_dir`; None if it is outside or not a file.

    Examples
    --------
    >>> from psweep.ui._pset import safe_path
    >>> safe_path(".", "../etc/passwd") is None
    True
    """
    if not relative or "\x00" in relative or os.path.isabs(relative):
        return None
    top = os.path.realpath(calc_dir)
    real = os.path.realpath(os.path.join(top, relative))
    if os.path.commonpath([top, real]) != top or real == top:
        return None
    return real if os.path.isfile(real) else None


def pset_row(df: pd.DataFrame, pset_id: str) -> pd.Series | None:
    """The row of `pset_id` (its last one), or None."""
    if "_pset_id" not in df.columns:
        return None
    rows = df[df["_pset_id"].astype(str) == pset_id]
    return None if len(rows) == 0 else rows.iloc[-1]


def pset_files(calc_dir: str, pset_id: str) -> list[dict[str, Any]]:
    """Files in ``<calc_dir>/<pset_id>/``: relative path, kind (image, text, binary), text.

    Only files that resolve inside the calc dir are listed.
    """
    top = os.path.realpath(calc_dir)
    folder = os.path.realpath(os.path.join(top, pset_id))
    if os.path.commonpath([top, folder]) != top or folder == top or not os.path.isdir(folder):
        return []
    found = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            relative = os.path.relpath(os.path.join(root, name), top)
            real = safe_path(top, relative)
            if real is None:
                continue
            found.append(_describe(relative, real))
    return found


def _describe(relative: str, real: str) -> dict[str, Any]:
    info: dict[str, Any] = {"path": relative, "size": os.path.getsize(real), "kind": "binary", "text": None}
    if relative.lower().endswith(IMAGE_SUFFIXES):
        info["kind"] = "image"
        return info
    with open(real, "rb") as fd:
        head = fd.read(TEXT_LIMIT)
    if b"\x00" not in head:
        try:
            info["text"] = head.decode("utf-8")
            info["kind"] = "text"
        except UnicodeDecodeError:
            pass
    return info


def provenance_of(calc_dir: str, run_id: str) -> dict[str, Any]:
    """The run record of `run_id` (source, git state, versions) and its captured source."""
    info = read_record(record_path(calc_dir, run_id)) or {}
    source = None
    path = source_path(calc_dir, run_id)
    if os.path.isfile(path):
        with open(path, encoding="utf-8", errors="replace") as fd:
            source = fd.read()
    return {"record": info, "source": source}


def source_diff(calc_dir: str, run_a: str, run_b: str) -> str:
    """The unified diff of the captured sources of two runs ('' if the same).

    Examples
    --------
    >>> from psweep.ui._pset import source_diff
    >>> source_diff("no-such-calc", "a", "b")
    ''
    """
    texts = []
    for run_id in (run_a, run_b):
        texts.append(provenance_of(calc_dir, run_id)["source"] or "")
    lines = difflib.unified_diff(
        texts[0].splitlines(keepends=True), texts[1].splitlines(keepends=True),
        fromfile=f"{run_a}.py", tofile=f"{run_b}.py",
    )
    return "".join(lines)
