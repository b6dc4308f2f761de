"""Small helpers shared by tests that drive real processes."""

from __future__ import annotations

import os
import time


def wait_until(predicate, timeout: float, what: str) -> None:
    """Poll `predicate` until true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def read_lines(path: str) -> list[str]:
    """Non-empty lines of a log file, [] if it does not exist yet."""
    if not os.path.exists(path):
        return []
    with open(path) as fd:
        return [line.strip() for line in fd if line.strip()]
