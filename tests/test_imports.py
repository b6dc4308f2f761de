"""The house rules of DESIGN.md section 3, checked on the imports of the package.

Each module belongs to a layer: ``errors``, ``_schema``, ``_files``, ``_procs``
(the shared ground), ``params``, ``store``, ``execute``, ``provenance``,
``engine``, ``frames``, ``batch``, ``compat``, ``ui``, ``cli``; the package's own
``__init__``, ``psweep`` (0.16's module) and ``__main__`` are the ``root``.
A module's layer is the subpackage it sits in (``psweep/store/_fold.py``
is ``store``). The rules:

* ``errors``, ``_schema``, ``_files`` and ``_procs`` import no other psweep
  module;
* ``params`` and ``frames`` import only those four (``frames`` may use
  ``params``);
* ``store`` never imports ``execute``, ``engine``, ``provenance``,
  ``batch``, ``compat`` or ``cli``;
* ``execute`` never imports ``store``, ``engine`` or ``params``;
* ``provenance`` may read ``store``, and imports nothing above it;
* ``engine`` uses all of the above but never ``frames``, ``batch``,
  ``compat`` or ``cli``;
* ``batch`` sits on ``engine``, never on ``compat`` or ``cli``;
* ``ui`` (``psweep ui``, ``psweep report``) reads ``params``, ``store``,
  ``provenance`` and ``frames``;
* ``cli`` reads ``store``, ``provenance``, ``frames`` and ``ui``;
* nothing imports ``ui`` but ``cli`` and the root;
* nothing imports ``compat`` but the root;
* no module imports the package root (``import psweep``);
* no private ``_module`` of a subpackage is imported from outside it;
* no psweep import hides inside a function.

``ALLOWED`` lists the violations the code still has; it may only shrink:
a listed violation that is gone fails the test too, so that the list is
struck as the code is mended.
"""

from __future__ import annotations

import ast
import os

import psweep

PACKAGE = os.path.dirname(os.path.abspath(psweep.__file__))

SHARED = {"errors", "_schema", "_files", "_procs"}
LAYERS = SHARED | {"params", "store", "execute", "provenance", "engine", "frames", "batch", "compat", "ui", "cli"}

# What each layer may import (besides itself); the root may import all.
MAY_IMPORT = {
    "errors": set(),
    "_schema": set(),
    "_files": set(),
    "_procs": set(),
    "params": SHARED,
    "frames": SHARED | {"params"},
    "store": SHARED | {"params"},
    "execute": SHARED,
    "provenance": SHARED | {"params", "store"},
    "engine": SHARED | {"params", "store", "execute", "provenance"},
    "batch": SHARED | {"params", "store", "execute", "provenance", "engine"},
    "ui": SHARED | {"params", "store", "provenance", "frames"},
    "cli": SHARED | {"params", "store", "provenance", "frames", "ui"},
    "compat": LAYERS - {"compat", "cli", "ui"},
}

# Violations the code still has: (importing module, imported module, rule).
ALLOWED: set[tuple[str, str, str]] = set()


def _modules() -> dict[str, str]:
    """{dotted name: file path} of every module of the package."""
    found = {}
    for folder, _, names in os.walk(PACKAGE):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, os.path.dirname(PACKAGE))[: -len(".py")]
                dotted = rel.replace(os.sep, ".")
                found[dotted[: -len(".__init__")] if dotted.endswith(".__init__") else dotted] = path
    return found


def layer_of(dotted: str) -> str:
    """The layer of module `dotted` (``psweep.store._fold`` -> ``store``)."""
    parts = dotted.split(".")
    if len(parts) == 1 or parts[1] in ("__init__", "psweep", "__main__"):
        return "root"
    return parts[1] if parts[1] in LAYERS else "unknown"


def _imports(path: str, dotted: str) -> list[tuple[str, bool]]:
    """(imported psweep module, inside a function?) for each import in the file."""
    with open(path, encoding="utf-8") as fd:
        tree = ast.parse(fd.read())
    package = dotted if path.endswith("__init__.py") else dotted.rsplit(".", 1)[0]
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((a.name, inner) for a in child.names if a.name.split(".")[0] == "psweep")
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - child.level + 1]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                if module.split(".")[0] != "psweep":
                    continue
                for alias in child.names:
                    # "from psweep import errors" imports a module of the package.
                    sub = f"{module}.{alias.name}"
                    is_module = sub in MODULES
                    found.append((sub if is_module else module, inner))
            visit(child, inner)

    visit(tree, False)
    return found


MODULES = _modules()


def violations() -> set[tuple[str, str, str]]:
    """Every import that breaks a rule: (importer, imported, rule)."""
    broken = set()
    for dotted, path in MODULES.items():
        here = layer_of(dotted)
        for imported, in_function in _imports(path, dotted):
            there = layer_of(imported)
            if in_function:
                broken.add((dotted, imported, "import inside a function"))
            if imported == "psweep" and here != "root":
                broken.add((dotted, imported, "imports the package root"))
                continue
            if here == "root" or there == "root" or here == there:
                continue
            if there not in MAY_IMPORT.get(here, set()):
                broken.add((dotted, imported, f"{here} imports {there}"))
            parts = imported.split(".")
            if len(parts) > 2 and any(p.startswith("_") for p in parts[2:]):
                broken.add((dotted, imported, "private module of another subpackage"))
    return broken


def test_every_module_has_a_layer():
    """Each module of the package sits in a known layer."""
    unknown = sorted(d for d in MODULES if layer_of(d) == "unknown")
    assert not unknown, f"modules without a layer: {unknown}; put them in a subpackage (or FLAT)"


def test_imports_follow_the_house_rules():
    """No import breaks a rule of DESIGN.md section 3 beyond the listed violations."""
    found = violations()
    new = sorted(found - ALLOWED)
    assert not new, "imports that break the house rules:\n" + "\n".join(map(str, new))


def test_the_list_of_violations_only_shrinks():
    """A listed violation that is gone is struck from ALLOWED."""
    gone = sorted(ALLOWED - violations())
    assert not gone, "mended, strike from ALLOWED:\n" + "\n".join(map(str, gone))


def test_the_rules_catch_what_they_name(tmp_path):
    """The checker finds an import inside a function, of the root, of compat and of a private module."""
    source = (
        "import psweep\n"
        "from psweep.compat import util\n"
        "from psweep.store._fold import fold\n"
        "def f():\n"
        "    from psweep import errors\n"
    )
    path = tmp_path / "mod.py"
    path.write_text(source)
    found = dict(((imported, inner), True) for imported, inner in _imports(str(path), "psweep.execute._mod"))
    assert ("psweep", False) in found and ("psweep.errors", True) in found
    assert ("psweep.compat", False) in found or ("psweep.compat.util", False) in found
    assert ("psweep.store._fold", False) in found
