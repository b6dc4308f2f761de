"""Helpers of the ui tests: the example study, a real ``psweep ui`` server, a digest of a folder."""

from __future__ import annotations

import hashlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "look_at_a_study" / "study.py"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT = 60


def tree_digest(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file below `folder` (names, sizes, bytes): {relative path: (size, sha256)}."""
    found = {}
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            if os.path.islink(path):
                found[rel] = (-1, os.readlink(path))
                continue
            with open(path, "rb") as fd:
                data = fd.read()
            found[rel] = (len(data), hashlib.sha256(data).hexdigest())
    return found


def make_example_study(folder: Path) -> Path:
    """Run examples/look_at_a_study/study.py in `folder`; its calc dir."""
    shutil.copy(EXAMPLE, folder / "study.py")
    subprocess.run([sys.executable, "study.py"], cwd=folder, check=True, capture_output=True, timeout=120)
    return folder / "calc"


class Server:
    """A ``psweep ui`` subprocess and the URL it printed."""

    def __init__(self, calc_dir: Path, cwd: Path) -> None:
        self.calc_dir = calc_dir
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "psweep", "ui", str(calc_dir), "--no-browser", "--port", "0"],
            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        self.url = self._wait_for_url()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        url = None
        while url is None:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise TimeoutError(f"psweep ui printed no URL in {START_TIMEOUT} s: {self.output}") from None
            self.output.append(line)
            if " at http://" in line:
                url = line.split(" at ", 1)[1].split()[0]
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5):
                    return url
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"psweep ui at {url} did not answer in {START_TIMEOUT} s")

    def stop(self) -> int:
        """Ctrl-C, as a user stops it; killed if it does not end in 20 s. The exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return self.proc.returncode
