"""Every page of the docs runs as its reader would paste it: its Python and
bash blocks in order in a fresh folder, and the output it shows is what
they print (the conventions: tests/docs/pages.py, docs/contributing.md)."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DOCS = os.path.join(ROOT, "docs")
sys.path.insert(0, HERE)

import pages  # noqa: E402

PAGES = sorted(
    os.path.relpath(p, DOCS) for p in glob.glob(os.path.join(DOCS, "**", "*.md"), recursive=True)
    if not os.path.relpath(p, DOCS).startswith("_")
)


def test_docs_have_pages_and_blocks_that_keep_the_conventions():
    """The page test below sees the docs' pages, and they parse (no block left unrun unsaid)."""
    assert len(PAGES) >= 20, PAGES
    blocks = []
    for page in PAGES:
        with open(os.path.join(DOCS, page), encoding="utf-8") as fd:
            blocks += pages.parse(fd.read(), page)
    assert sum(b.skip is None for b in blocks) >= 35
    assert sum(b.expected is not None for b in blocks) >= 20


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_and_shows_what_it_prints(page, tmp_path):
    """The page's blocks run in page order in a fresh folder, each Python
    block in the page's one namespace, and each output the page shows is
    what its block printed."""
    folder = tmp_path / "page"
    folder.mkdir()
    launcher = f"import sys; sys.path.insert(0, {HERE!r}); import pages; pages.main(*sys.argv[1:])"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-c", launcher, os.path.join(DOCS, page), str(folder)],
        cwd=folder, capture_output=True, text=True, timeout=240, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
