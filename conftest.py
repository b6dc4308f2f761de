"""Every test and doctest runs in a fresh temporary folder, so that
docstring examples run as pasted: ``calc_dir="calc"`` lands there."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _in_fresh_folder(tmp_path, monkeypatch):
    """Run every test and doctest inside its own tmp_path."""
    monkeypatch.chdir(tmp_path)
    yield
