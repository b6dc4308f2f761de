"""Shared fixtures: every test and doctest runs in its own temporary folder."""

from __future__ import annotations

import os
import sys

import pytest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
if TESTS_DIR not in sys.path:
    # Worker functions live in tests/workers.py; spawned processes import
    # them from there, so the folder must be importable.
    sys.path.insert(0, TESTS_DIR)


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path, monkeypatch):
    """Run each test inside its own tmp_path, so relative calc dirs stay there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([TESTS_DIR, os.environ.get("PYTHONPATH", "")]))
    yield
