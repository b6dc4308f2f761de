"""The code hash of a study's function, to tell rows made by other code apart."""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import linecache
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["code_hash"]


def code_hash(func: Callable[..., Any]) -> str | None:
    """A hash of the code of `func`, to tell rows made by other code apart.

    It hashes the function's source as parsed (``ast.unparse``), without
    its decorators, so that reformatting, comments or a changed
    ``@ps.sweep(...)`` option do not count as other code, and the value
    does not depend on the Python version. A function without source (a
    lambda made in a REPL) falls back to its byte code, which is specific
    to the Python version. Functions the function calls are not included.
    An object with a ``psweep_code_hash()`` method gives its own value
    (:func:`psweep.prep_batch`'s writer: its templates are its code).

    Parameters
    ----------
    func
        The user's function (a :class:`~psweep.Sweep`, a
        ``functools.partial`` or a callable object: their function).

    Returns
    -------
    str or None
        ``"src:<sha1>"`` or ``"py3.X:<sha1>"``; None when `func` has no
        Python code (e.g. a builtin).

    Examples
    --------
    >>> from psweep.provenance._codehash import code_hash
    >>> def f(pset):
    ...     return {"y": pset["x"]}  # a comment does not count
    >>> def g(pset):
    ...     return {"y": pset["x"] + 1}
    >>> code_hash(f) == code_hash(g), code_hash(f)[:4]
    (False, 'src:')
    """
    func = inspect.unwrap(func)
    while isinstance(func, functools.partial):
        func = inspect.unwrap(func.func)
    own = getattr(func, "psweep_code_hash", None)
    if callable(own):  # prep_batch's writer: its templates are its code
        return str(own())
    if not hasattr(func, "__code__") and callable(func):
        func = type(func).__call__  # a callable object: its method
    code = getattr(func, "__code__", None)
    if code is None:
        return None
    known = _CODE_HASHES.get(code)
    if known is None:
        if len(_CODE_HASHES) > 256:  # e.g. a notebook redefining cells all day
            _CODE_HASHES.clear()
        known = _CODE_HASHES[code] = _hash_code(code)
    return known


# Parsing the source takes up to milliseconds: once per function and process.
_CODE_HASHES: dict[Any, str] = {}


def _hash_code(code: Any) -> str:
    node = _definition(code)
    if node is not None:
        if not isinstance(node, ast.Lambda):
            node.decorator_list = []
        return "src:" + hashlib.sha1(ast.unparse(node).encode()).hexdigest()
    version = f"py{sys.version_info[0]}.{sys.version_info[1]}"
    return f"{version}:" + hashlib.sha1(_code_bytes(code)).hexdigest()


def _definition(code: Any) -> ast.AST | None:
    """The syntax tree of the function `code` was compiled from, or None.

    Found by name and first line in the parsed text of its file (or of
    its notebook cell, which linecache holds), not with inspect.getsource,
    whose tokenizer costs milliseconds on its first use in a process.
    """
    lines = linecache.getlines(code.co_filename)
    if not lines:
        return None
    try:
        tree = ast.parse("".join(lines))
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == code.co_name:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            if first == code.co_firstlineno:
                return node
        elif isinstance(node, ast.Lambda) and code.co_name == "<lambda>":
            if node.lineno == code.co_firstlineno:
                return node
    return None


def _code_bytes(code: Any) -> bytes:
    """Byte code, names and constants of `code` and the code it nests, not line numbers."""
    parts = [code.co_code, repr((code.co_names, code.co_varnames, code.co_freevars)).encode()]
    for const in code.co_consts:
        parts.append(_code_bytes(const) if inspect.iscode(const) else repr(const).encode())
    return b"\0".join(parts)
