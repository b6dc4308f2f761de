"""Capture of the source that ran a study: read at decoration, written per run."""

from __future__ import annotations

import ast
import contextlib
import inspect
import os
import sys
import textwrap
import warnings
from collections.abc import Callable
from typing import Any

from psweep._schema import RUN_RECORDS_DIR
from psweep.provenance._notebook import kernel_shell

__all__ = ["read_source", "source_path", "write_source"]


def read_source(func: Callable[..., Any]) -> str | None:
    """Source text of the module that defines `func`, else of `func` alone.

    Read once, when a function is decorated, so that edits made to the
    script while a study runs do not leak into what is recorded.

    Parameters
    ----------
    func
        The user's function.

    Returns
    -------
    str or None
        None when no source can be found (a warning says so), and in a
        Jupyter kernel, where each run records the notebook instead.
    """
    module = sys.modules.get(getattr(func, "__module__", None) or "")
    path = getattr(module, "__file__", None)
    if path and os.path.isfile(path) and path.endswith(".py"):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            with open(path, encoding="utf-8") as fd:
                return fd.read()
    if kernel_shell() is not None:
        return None  # run() records the cells run so far (psweep.provenance._notebook)
    try:
        text = inspect.getsource(func)
    except (OSError, TypeError):
        text = None
    if text is not None and _defines(text, func):
        return text
    warnings.warn(
        f"psweep: no source found for {getattr(func, '__qualname__', func)!r} "
        f"(defined in a REPL or with python -c?); backup_script/ will "
        f"not record the code of this study. Put the function in a "
        f".py file to have it recorded.",
        UserWarning,
        stacklevel=3,
    )
    return None


def _defines(text: str, func: Callable[..., Any]) -> bool:
    """Whether `text`, from ``inspect.getsource(func)``, is `func`'s definition.

    inspect finds source by file name and line number in linecache, which
    may hold other text under the same pseudo file name: on Python 3.13,
    the program of ``python -c`` is cached as "<string>", the file name of
    all code run by ``exec``, so getsource returns lines of the program.
    """
    name = getattr(func, "__name__", None)
    if name == "<lambda>":
        return "lambda" in text
    try:
        body = ast.parse(textwrap.dedent(text)).body
    except SyntaxError:
        return False
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return any(isinstance(node, kinds) and node.name == name for node in body)


def source_path(calc_dir: str, run_id: str) -> str:
    """Where the source of run `run_id` is kept: ``<calc_dir>/backup_script/<run_id>.py``."""
    return os.path.join(calc_dir, RUN_RECORDS_DIR, f"{run_id}.py")


def write_source(calc_dir: str, run_id: str, source: str) -> str:
    """Write `source` to ``<calc_dir>/backup_script/<run_id>.py``.

    Parameters
    ----------
    calc_dir
        The calc dir.
    run_id
        The run's ``_run_id``.
    source
        Source text.

    Returns
    -------
    str
        The file written.
    """
    path = source_path(calc_dir, run_id)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fd:
        fd.write(source)
    return path
