"""Filling in a template's placeholders: jinja2 (``{{name}}``) or ``$name``.

The errors say which file and which key; an unfilled jinja2 placeholder
raises an error that is both psweep's and jinja2's (:func:`jinja_placeholder_error`).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from psweep.batch._optional import require
from psweep.errors import TemplateError, TemplatePlaceholderError

__all__ = [
    "TEMPLATE_MODES",
    "compile_jinja",
    "fill_dollar",
    "fill_jinja",
    "jinja_placeholder_error",
]

TEMPLATE_MODES = ("jinja", "dollar")


def fill_dollar(text: str, pset: Mapping[str, Any], filename: str) -> str:
    """`text` with its ``$name`` placeholders filled from `pset` (:class:`string.Template`).

    `filename` names the template in the errors.
    """
    try:
        return string.Template(text).substitute(pset)
    except KeyError as exc:
        key = exc.args[0]
        raise TemplatePlaceholderError(
            f"template {filename!r}: the placeholder ${key} has no value: "
            f"the pset has no key {key!r}. Add {key!r} to the psets, or write "
            f"$${key} for a literal '${key}' (e.g. a shell variable)."
        ) from None
    except ValueError as exc:
        raise TemplateError(
            f"template {filename!r}: {exc}. In template_mode='dollar' a "
            f"'$' starts a placeholder; write '$$' for a literal '$'."
        ) from None


def compile_jinja(text: str, filename: str) -> Any:
    """`text` as a jinja2 template that refuses undefined names; `filename` names it in errors."""
    jinja2 = require("jinja2", "template_mode='jinja'")
    # jinja2 writes every line end as newline_sequence: keep the file's.
    newline = "\r\n" if "\r\n" in text else "\n"
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             newline_sequence=newline)
    try:
        return env.from_string(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"template {filename!r}, line {exc.lineno}: jinja2 syntax "
            f"error: {exc.message}. Fix the template, or use "
            f"template_mode='dollar' for $name placeholders."
        ) from None


def fill_jinja(compiled: Any, text: str, pset: Mapping[str, Any], filename: str) -> str:
    """`compiled` (:func:`compile_jinja` of `text`) filled from `pset`.

    `filename` names the template in the errors.
    """
    jinja2 = require("jinja2", "template_mode='jinja'")
    try:
        return compiled.render(pset)
    except jinja2.UndefinedError as exc:
        from jinja2 import meta

        used = meta.find_undeclared_variables(jinja2.Environment().parse(text))
        missing = sorted(used - set(pset))
        what = (
            "placeholder(s) " + ", ".join(repr(k) for k in missing) + " not in the pset"
            if missing else str(exc)
        )
        raise jinja_placeholder_error()(
            f"template {filename!r}: {what}. Add the key(s) to the psets, "
            f"or remove the placeholder (a literal brace pair is written "
            + "{{ '{{' }} in jinja)."
        ) from None
    except Exception as exc:  # e.g. {{ a / b }} with b = 0
        raise TemplateError(
            f"template {filename!r}: filling it in raised "
            f"{type(exc).__name__}: {exc}. Fix the expression in the template."
        ) from exc


_JINJA_PLACEHOLDER_ERROR: type[TemplatePlaceholderError] | None = None


def jinja_placeholder_error() -> type[TemplatePlaceholderError]:
    """The error class of an unfilled jinja2 placeholder (jinja2 imported).

    A :class:`~psweep.errors.TemplatePlaceholderError` (a ``KeyError``, as
    psweep 0.16 raised for ``$name``) that is also jinja2's
    ``UndefinedError`` (as 0.16 raised for ``{{name}}``), so that
    ``except`` clauses written for 0.16 keep working. Made on first use,
    since jinja2 is optional; it pickles (``psweep.batch._filling.JinjaPlaceholderError``).

    Returns
    -------
    type

    Examples
    --------
    >>> import jinja2
    >>> from psweep.batch._filling import jinja_placeholder_error
    >>> issubclass(jinja_placeholder_error(), (KeyError, jinja2.exceptions.UndefinedError))
    True
    """
    global _JINJA_PLACEHOLDER_ERROR
    if _JINJA_PLACEHOLDER_ERROR is None:
        jinja2 = require("jinja2", "template_mode='jinja'")

        class JinjaPlaceholderError(TemplatePlaceholderError, jinja2.exceptions.UndefinedError):
            """A jinja2 placeholder that the pset does not fill."""

            __module__ = __name__
            __qualname__ = "JinjaPlaceholderError"

        _JINJA_PLACEHOLDER_ERROR = JinjaPlaceholderError
    return _JINJA_PLACEHOLDER_ERROR


def __getattr__(name: str) -> Any:
    # Unpickling a JinjaPlaceholderError (from a pool worker, say) looks
    # the class up here.
    if name == "JinjaPlaceholderError":
        return jinja_placeholder_error()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
