"""Doctests get ``tmp``, a fresh temporary folder, and run inside it."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _doctest_tmp(doctest_namespace, tmp_path, monkeypatch):
    """Give doctests a ``tmp`` path and run every test inside its tmp_path."""
    doctest_namespace["tmp"] = tmp_path
    monkeypatch.chdir(tmp_path)
    yield
