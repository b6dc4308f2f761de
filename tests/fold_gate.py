"""A result value that holds a run's final fold until the test has sent SIGINT.

A row is pickled twice in its driver: into the run's journal when it is
recorded, and with the whole database when the final fold writes it. In a
process whose environment has ``PSWEEP_TEST_FOLD_GATE=<folder>``, the second
pickling of a :class:`FoldGate` writes ``<folder>/folding`` and then waits
(at most 60 s) for the signal the test sends: Ctrl-C arrives in the middle
of the fold, deterministically, with no hook in psweep. Anywhere else (the
test reading the database back) it pickles like any small object.
Importable by subprocesses (tests/ is on PYTHONPATH).
"""

from __future__ import annotations

import os
import time

WAIT = 60.0
_pickled = 0


class FoldGate:
    def __reduce__(self):
        global _pickled
        _pickled += 1
        folder = os.environ.get("PSWEEP_TEST_FOLD_GATE")
        if folder is not None and _pickled == 2:  # the fold, after the journal
            with open(os.path.join(folder, "folding"), "w"):
                pass
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:
                time.sleep(0.01)  # Ctrl-C (KeyboardInterrupt) ends this
            raise TimeoutError(f"no SIGINT within {WAIT} s of the fold")
        return (FoldGate, ())
