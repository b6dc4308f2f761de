"""A pset value that holds a prep_batch call until another one has started.

Filled into a template as ``{{_gate}}``: the first fill (prep_batch's check
of the templates, after it has read the submit scripts) marks this process
as started and waits for the other's mark. So two prep_batch calls are
certain to overlap, without relying on timing. Importable by subprocesses
(tests/ is on PYTHONPATH).
"""

from __future__ import annotations

import os
import time

WAIT = 60.0


class Gate:
    def __init__(self, mine: str, other: str) -> None:
        self.mine = mine
        self.other = other

    def __str__(self) -> str:
        with open(self.mine, "w"):
            pass
        deadline = time.monotonic() + WAIT
        while not os.path.exists(self.other):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.other} did not appear within {WAIT} s")
            time.sleep(0.01)
        return ""


class KillOnRun:
    """Filled once by prep_batch's check (marks `path`), then, in the run, SIGKILLs the process."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __str__(self) -> str:
        if os.path.exists(self.path):
            os.kill(os.getpid(), 9)
        with open(self.path, "w"):
            pass
        return ""
