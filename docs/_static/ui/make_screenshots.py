#!/usr/bin/env python3
"""Make the screenshots of docs/howto/look.md from the real example study, in headless Chromium.

Runs examples/look_at_a_study/study.py in a temporary folder, serves its
calc dir with ``psweep ui``, and saves one PNG per view next to this
script (runs, results, failures, coverage, pset). Needs the ui extra,
playwright (its Python package only) and Debian's chromium:

    python docs/_static/ui/make_screenshots.py
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
STUDY = HERE.parents[2] / "examples" / "look_at_a_study" / "study.py"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def serve(folder: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "psweep", "ui", "calc", "--no-browser"], cwd=folder,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # the first line names the URL
        if " at http://" in line:
            return proc, line.split(" at ", 1)[1].split()[0]
    raise RuntimeError("psweep ui printed no URL")


def shoot(url: str) -> None:
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        for view, ready in (("runs", "#runs-table"), ("results", "#plot .main-svg"),
                            ("failures", ".failure-group"), ("coverage", "#coverage-plot .main-svg")):
            page.goto(url + view)
            page.wait_for_selector(ready, timeout=30_000)
            time.sleep(1.0)  # plots animate in
            page.screenshot(path=str(HERE / f"{view}.png"))
            if view == "failures":
                pset = page.locator("a.pset-link").first.get_attribute("href")
        page.goto(url + pset.lstrip("/"))
        page.wait_for_selector("#pset_exc_txt", timeout=30_000)
        page.screenshot(path=str(HERE / "pset.png"), full_page=False)
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(STUDY, os.path.join(folder, "study.py"))
        subprocess.run([sys.executable, "study.py"], cwd=folder, check=True, capture_output=True)
        proc, url = serve(folder)
        try:
            shoot(url)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=20)
    print(f"wrote {', '.join(sorted(p.name for p in HERE.glob('*.png')))} in {HERE}")


if __name__ == "__main__":
    main()
