"""Tests of psweep/store/_journal.py: rows copied into reserved, mapped space.

A journal reserves disk space ahead and copies each record into a memory map
of it; readers take the zero tail for the journal's end. Where space cannot
be reserved (a file-size limit, a full disk) it writes records with pwrite.
Real files, real processes, real SIGKILL, real resource limits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import warnings

from psweep.store._journal import Journal, read_journal


def _rows(n: int, width: int = 10) -> list[dict]:
    return [{"_pset_id": f"p{i}", "x": i, "text": "t" * width} for i in range(n)]


def _read_quietly(path: str, live: bool) -> list[dict]:
    """read_journal with every warning an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return read_journal(path, live=live)


def test_reserved_zero_tail_is_read_as_the_end_without_warning(tmp_path):
    """A live journal's file holds reserved zeros after its records; readers see only the rows, silently."""
    journal = Journal(str(tmp_path / "run.jnl"))
    rows = _rows(3)
    for row in rows:
        journal.append(row)
    size = os.path.getsize(journal.path)
    with open(journal.path, "rb") as fd:
        data = fd.read()
    assert size > len(data.rstrip(b"\0")) > 0  # space reserved ahead, zeros
    assert _read_quietly(journal.path, live=True) == rows
    assert _read_quietly(journal.path, live=False) == rows
    journal.close(remove=False)


def test_kept_journal_ends_at_its_last_record(tmp_path):
    """A journal closed without removal gives back its reserved space: no zero tail remains."""
    journal = Journal(str(tmp_path / "run.jnl"))
    rows = _rows(4)
    for row in rows:
        journal.append(row)
    journal.close(remove=False)
    with open(journal.path, "rb") as fd:
        data = fd.read()
    assert data == data.rstrip(b"\0") and data.endswith(b".")
    assert _read_quietly(journal.path, live=False) == rows


def test_rows_beyond_the_first_reserved_space_keep_their_order(tmp_path):
    """A journal growing past its first reserved space (and again) keeps every row, in order."""
    journal = Journal(str(tmp_path / "run.jnl"))
    rows = _rows(2000, width=600)  # ~1.3 MB: several reservations
    for row in rows:
        journal.append(row)
    assert _read_quietly(journal.path, live=True) == rows
    journal.close(remove=False)
    assert _read_quietly(journal.path, live=False) == rows


def test_truncate_drops_folded_rows_and_later_rows_follow(tmp_path):
    """After truncate (rows folded) readers see only rows appended since, never the folded ones."""
    journal = Journal(str(tmp_path / "run.jnl"))
    for row in _rows(5):
        journal.append(row)
    journal.truncate()
    assert _read_quietly(journal.path, live=True) == []
    later = [{"_pset_id": "later", "x": 99}]
    journal.append(later[0])
    assert _read_quietly(journal.path, live=True) == later
    journal.close(remove=True)
    assert not os.path.exists(journal.path)


KILLED = """
import os, signal, sys
from psweep.store._journal import Journal
journal = Journal(sys.argv[1])
for i in range(int(sys.argv[2])):
    journal.append({"_pset_id": f"p{i}", "x": i})
print("appended", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_sigkilled_writer_loses_no_row_and_leaves_no_warning(tmp_path):
    """Every row appended before a SIGKILL is read back (from the page cache the map wrote to), silently."""
    path = str(tmp_path / "run.jnl")
    proc = subprocess.run([sys.executable, "-c", KILLED, path, "300"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.strip() == "appended"
    rows = _read_quietly(path, live=False)
    assert [row["x"] for row in rows] == list(range(300))


LIMITED = """
import os, resource, signal, sys
from psweep.store._journal import Journal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversize writes fail with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))
journal = Journal(sys.argv[1])
appended = 0
try:
    for i in range(100_000):
        journal.append({"_pset_id": f"p{i}", "x": i, "text": "t" * 100})
        appended += 1
except OSError as exc:
    print("stopped", type(exc).__name__, flush=True)
print(appended, os.path.getsize(sys.argv[1]), flush=True)
journal.close(remove=False)
"""


def test_no_space_to_reserve_falls_back_to_writes_and_stops_cleanly(tmp_path):
    """Under a file-size limit below the first reservation, records are written one by one
    until the limit, which raises OSError; the file holds exactly the appended rows, whole."""
    path = str(tmp_path / "run.jnl")
    proc = subprocess.run([sys.executable, "-c", LIMITED, path, "30000"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split("\n")
    assert lines[0] == "stopped OSError", proc.stdout
    appended, size = map(int, lines[1].split())
    assert 100 < appended and size <= 30000
    with open(path, "rb") as fd:
        assert not fd.read().endswith(b"\0")  # no zero tail: written, not reserved
    assert [row["x"] for row in _read_quietly(path, live=False)] == list(range(appended))


def test_limit_reached_while_growing_keeps_mapped_rows(tmp_path):
    """A limit hit when a journal grows past its first reservation: rows mapped before it and rows
    written after it are all read back; the append that does not fit raises OSError."""
    path = str(tmp_path / "run.jnl")
    limit = 400_000  # above the first reservation (256 kB), below the second
    proc = subprocess.run([sys.executable, "-c", LIMITED, path, str(limit)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split("\n")
    assert lines[0] == "stopped OSError", proc.stdout
    appended, size = map(int, lines[1].split())
    assert size <= limit and appended > 1000
    assert [row["x"] for row in _read_quietly(path, live=False)] == list(range(appended))
