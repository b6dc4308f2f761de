"""Fixtures of the ui tests: the example study and one real headless Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_helpers import CHROMIUM, CHROMIUM_ARGS, make_example_study


@pytest.fixture(scope="module")
def example_calc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The calc dir of examples/look_at_a_study, made once per module."""
    return make_example_study(tmp_path_factory.mktemp("study"))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Debian Chromium per module, driven by Playwright."""
    if CHROMIUM is None:
        pytest.skip("no chromium binary on PATH (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the ui extra's tests need playwright")
    with sync_api.sync_playwright() as play:
        chromium = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
