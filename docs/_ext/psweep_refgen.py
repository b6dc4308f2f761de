"""The reference pages' text, made from the code: the API from
``psweep.__all__``, the errors from ``psweep.errors``, the command from its
argparse parser. Plain functions returning reStructuredText, without Sphinx,
so that the suite checks them where Sphinx is not installed; ``psweep_docs``
puts them into the pages."""

from __future__ import annotations

import argparse
import inspect
import os

import psweep
from psweep import errors as _errors
from psweep.cli._parser import build_parser

# Groups of the API page, by the subpackage a name is defined in. A new
# public name lands in its subpackage's group, or in "Other" (no page edit).
GROUPS = [
    ("Running a study", ("psweep.engine", "psweep.provenance")),
    ("Building parameter sets", ("psweep.params",)),
    ("Reading and post-processing the database", ("psweep.frames", "psweep.store")),
    ("Batch templates", ("psweep.batch",)),
    ("Helpers kept from psweep 0.16", ("psweep.compat",)),
]
OTHER = "Other public names"
CONSTANTS = "Constants"

# What the constants mean (a new constant without an entry still appears).
CONSTANT_DOCS = {
    "__version__": "The version of psweep.",
    "CALC_DIR": "The default calc dir of a run.",
    "DATABASE_BASENAME": "The default file name of the database in a calc dir.",
    "FILL_VALUE": "The default value of missing cells of 0.16's frame helpers.",
    "GIT_ADD_ALL": "The git command the git helpers use to add a study's files.",
    "PANDAS_DEFAULT_ORIENT": "The JSON orient of ``df_write(..., fmt='json')`` and ``df_to_json``.",
    "PANDAS_TIME_UNIT": "The time unit of times in JSON output.",
    "PSET_HASH_ALG": "The hashlib algorithm of ``pset_hash``.",
}


def error_classes() -> list[str]:
    """Names of the exception classes of ``psweep.errors``, in its order."""
    return [
        name for name, obj in vars(_errors).items()
        if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == _errors.__name__
        and not name.startswith("_")
    ]


def _kind(name: str) -> str:
    obj = getattr(psweep, name)
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return "error"
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def _group(name: str) -> str:
    if _kind(name) == "data":
        return CONSTANTS
    module = getattr(getattr(psweep, name), "__module__", "") or ""
    for title, prefixes in GROUPS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return title
    return OTHER


def _entry(name: str) -> list[str]:
    kind = _kind(name)
    if kind == "function":
        return [f".. autofunction:: psweep.{name}", ""]
    if kind == "class":
        return [f".. autoclass:: psweep.{name}", "   :members:", ""]
    if kind == "module":
        return [f".. automodule:: psweep.{name}", "   :members:", ""]
    value = getattr(psweep, name)
    return [f".. py:data:: psweep.{name}", f"   :value: {value!r}", "", f"   {CONSTANT_DOCS.get(name, '')}", ""]


def api_rst() -> str:
    """The API reference: every name of ``psweep.__all__`` but the errors, by group."""
    names = [n for n in psweep.__all__ if _kind(n) != "error"]
    titles = [t for t, _ in GROUPS] + [OTHER, CONSTANTS]
    lines: list[str] = []
    for title in titles:
        members = [n for n in names if _group(n) == title]
        if not members:
            continue
        lines += [title, "-" * len(title), ""]
        for name in members:
            lines += _entry(name)
    return "\n".join(lines) + "\n"


def errors_rst() -> str:
    """The errors reference: every exception class of ``psweep.errors`` and of ``__all__``."""
    names = error_classes()
    names += [n for n in psweep.__all__ if _kind(n) == "error" and n not in names]
    lines: list[str] = []
    for name in names:
        lines += [f".. autoexception:: psweep.{name}", "   :show-inheritance:", ""]
    return "\n".join(lines) + "\n"


def subcommands(parser: argparse.ArgumentParser | None = None) -> dict[str, argparse.ArgumentParser]:
    """The subcommands of the ``psweep`` command: name -> its parser."""
    parser = parser or build_parser()
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def _help_text(parser: argparse.ArgumentParser) -> str:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"  # the same text whatever terminal builds the docs
    try:
        return parser.format_help()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def _literal(text: str) -> list[str]:
    return ["::", ""] + [f"   {line}" if line.strip() else "" for line in text.rstrip().splitlines()] + [""]


def cli_rst(parser: argparse.ArgumentParser | None = None) -> str:
    """The command reference: ``psweep --help``, then a section per subcommand."""
    parser = parser or build_parser()
    lines = ["``psweep``", "-" * 10, ""] + _literal(_help_text(parser))
    for name, sub in subcommands(parser).items():
        title = f"``psweep {name}``"
        lines += [f".. _cli-{name}:", "", title, "-" * len(title), ""]
        lines += _literal(_help_text(sub))
    return "\n".join(lines) + "\n"
