"""Sphinx directives that put the reference made from the code into a page:
``psweep-api`` (``psweep.__all__``), ``psweep-errors`` (``psweep.errors``) and
``psweep-cli`` (the ``psweep`` command's argparse parser). The text comes
from ``psweep_refgen``, which the suite checks without Sphinx."""

from __future__ import annotations

import psweep_refgen
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles
from docutils import nodes
from docutils.statemachine import StringList


class _Generated(SphinxDirective):
    """Parse the reStructuredText that ``make()`` returns, in place."""

    make = staticmethod(lambda: "")

    def run(self) -> list[nodes.Node]:
        source = f"<{self.name} in {self.env.docname}>"
        # The pages are MyST Markdown, whose nested parse reads Markdown: the
        # generated reStructuredText goes through MyST's eval-rst directive.
        rst = self.make()
        fence = "`" * 4
        text = StringList([f"{fence}{{eval-rst}}", *rst.splitlines(), fence], source=source)
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, text, node)
        return node.children


class ApiDirective(_Generated):
    make = staticmethod(psweep_refgen.api_rst)


class ErrorsDirective(_Generated):
    make = staticmethod(psweep_refgen.errors_rst)


class CliDirective(_Generated):
    make = staticmethod(psweep_refgen.cli_rst)


def _always_reread(app, env, added, changed, removed) -> list[str]:
    """Pages with a generated reference are read again at every build: the code may have changed."""
    return sorted(doc for doc in env.found_docs if doc in env.metadata and _uses_directive(env, doc))


def _uses_directive(env, docname: str) -> bool:
    with open(env.doc2path(docname), encoding="utf-8") as fd:
        text = fd.read()
    return any(f"{{{name}}}" in text for name in ("psweep-api", "psweep-errors", "psweep-cli"))


def setup(app):
    app.connect("env-get-outdated", _always_reread)
    app.add_directive("psweep-api", ApiDirective)
    app.add_directive("psweep-errors", ErrorsDirective)
    app.add_directive("psweep-cli", CliDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
