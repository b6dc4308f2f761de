"""Sphinx configuration of psweep's docs: MyST pages, numpydoc docstrings,
the furo theme, the reference made from the code (``_ext/psweep_docs.py``),
and intersphinx from small inventories shipped in ``_intersphinx/`` so that
the build needs no network.

Build: ``sphinx-build -W -b html docs docs/_build/html``."""

from __future__ import annotations

import os
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))

import psweep  # noqa: E402

project = "psweep"
author = "psweep developers"
copyright = "psweep developers"
release = psweep.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "psweep_docs",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_intersphinx", "_ext", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []

html_theme = "furo"
html_title = f"psweep {release}"
html_static_path = ["_static"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
autosummary_generate = False  # numpydoc loads autosummary; the API page is ours
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    "DataFrame": "pandas.DataFrame",
    "Series": "pandas.Series",
    "Timestamp": "pandas.Timestamp",
    "Path": "pathlib.Path",
    "Executor": "concurrent.futures.Executor",
}
numpydoc_xref_ignore = {"optional", "default", "or", "of", "any", "type", "the", "a", "an"}


def _inventories() -> dict[str, tuple[str, tuple[str]]]:
    """Compile ``_intersphinx/<name>.txt`` into objects.inv files for intersphinx."""
    sites = {
        "python": ("Python", "https://docs.python.org/3/"),
        "pandas": ("pandas", "https://pandas.pydata.org/docs/"),
        "dask": ("distributed", "https://distributed.dask.org/en/stable/"),
    }
    out = os.path.join(HERE, "_build", "intersphinx")
    os.makedirs(out, exist_ok=True)
    mapping = {}
    for name, (title, url) in sites.items():
        with open(os.path.join(HERE, "_intersphinx", f"{name}.txt"), encoding="utf-8") as fd:
            lines = [line for line in fd.read().splitlines() if line.strip() and not line.startswith("#")]
        header = (f"# Sphinx inventory version 2\n# Project: {title}\n# Version: \n"
                  "# The remainder of this file is compressed using zlib.\n")
        path = os.path.join(out, f"{name}.inv")
        with open(path, "wb") as fd:
            fd.write(header.encode() + zlib.compress(("\n".join(lines) + "\n").encode()))
        mapping[name] = (url, (path,))
    return mapping


intersphinx_mapping = _inventories()
