"""The reference is complete: every public name, error class and ``psweep``
subcommand is in the text the reference pages are made from, and (in
.ci/run, after the docs build, which sets PSWEEP_DOCS_HTML) in the built
pages. The reference is made from the code (docs/_ext/psweep_refgen.py),
so a new name needs no page edit; these tests fail if that breaks."""

from __future__ import annotations

import os
import re
import sys

import pytest

import psweep
from psweep import errors

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "docs")
sys.path.insert(0, os.path.join(DOCS, "_ext"))

import psweep_refgen  # noqa: E402

ERROR_NAMES = [n for n, o in vars(errors).items() if isinstance(o, type) and issubclass(o, BaseException)
               and o.__module__ == errors.__name__]


def _page(name: str) -> str:
    with open(os.path.join(DOCS, "reference", name), encoding="utf-8") as fd:
        return fd.read()


def test_every_public_name_is_in_the_api_reference_source():
    """Each name of psweep.__all__ is documented: errors on the errors page, the rest on the API page."""
    api, errs = psweep_refgen.api_rst(), psweep_refgen.errors_rst()
    assert "{psweep-api}" in _page("api.md") and "{psweep-errors}" in _page("errors.md")
    missing = [n for n in psweep.__all__ if not re.search(rf":: psweep\.{re.escape(n)}$", api + errs, re.M)]
    assert not missing, f"not in the reference: {missing}"


def test_every_error_class_is_in_the_errors_reference_source():
    """Each exception class of psweep.errors, public or not in __all__, is on the errors page."""
    assert len(ERROR_NAMES) >= 15, ERROR_NAMES
    errs = psweep_refgen.errors_rst()
    missing = [n for n in ERROR_NAMES if f".. autoexception:: psweep.{n}\n" not in errs]
    assert not missing, f"not on the errors page: {missing}"


def test_every_subcommand_is_in_the_cli_reference_source():
    """Each subcommand of the psweep command's parser has a section with its --help."""
    from psweep.cli._parser import build_parser

    names = list(psweep_refgen.subcommands(build_parser()))
    assert {"show", "runs", "status", "export", "check", "compact"} <= set(names), names
    cli = psweep_refgen.cli_rst()
    assert "{psweep-cli}" in _page("cli.md")
    missing = [n for n in names if f".. _cli-{n}:" not in cli or f"usage: psweep {n}" not in cli]
    assert not missing, f"not in the command reference: {missing}"


def test_a_new_public_name_appears_without_a_page_edit(monkeypatch):
    """A name added to psweep.__all__ (say issue 22's ui) lands in the API text on its own."""
    def brand_new(pset):
        """A function the reference has never seen."""

    brand_new.__module__ = "psweep.engine._run"
    monkeypatch.setattr(psweep, "brand_new", brand_new, raising=False)
    monkeypatch.setattr(psweep, "__all__", [*psweep.__all__, "brand_new"])
    assert ".. autofunction:: psweep.brand_new\n" in psweep_refgen.api_rst()


def test_durability_page_names_only_tests_that_exist():
    """Each test the durability page gives as the check of a promise exists under that name."""
    with open(os.path.join(DOCS, "explanation", "durability.md"), encoding="utf-8") as fd:
        text = fd.read().split("## Each promise and the test that checks it", 1)[1]
    named, last_file = [], None
    for file, test in re.findall(r"`([\w/]+\.py)?::(test_\w+)`", text):
        last_file = file or last_file  # "::test_x" is in the file named before it
        named.append((last_file, test))
    assert len(named) >= 25, named
    missing = []
    for file, test in named:
        with open(os.path.join(ROOT, "tests", file), encoding="utf-8") as fd:
            if not re.search(rf"^def {test}\(", fd.read(), re.M):
                missing.append(f"{file}::{test}")
    assert not missing, f"the durability page names tests that don't exist: {missing}"


HTML = os.environ.get("PSWEEP_DOCS_HTML")


@pytest.mark.skipif(not HTML, reason="needs the built docs: .ci/run sets PSWEEP_DOCS_HTML after its build")
def test_built_reference_has_every_name_error_and_subcommand():
    """The built pages hold an entry (an HTML id) for every public name, error class and subcommand."""
    html = {}
    for page in ("api", "errors", "cli"):
        with open(os.path.join(ROOT, HTML, "reference", f"{page}.html"), encoding="utf-8") as fd:
            html[page] = set(re.findall(r'id="([^"]+)"', fd.read()))
    ids = html["api"] | html["errors"]
    missing = [n for n in [*psweep.__all__, *ERROR_NAMES] if f"psweep.{n}" not in ids]
    missing += [f"psweep {n}" for n in psweep_refgen.subcommands() if f"cli-{n}" not in html["cli"]]
    assert not missing, f"not in the built reference: {missing}"
