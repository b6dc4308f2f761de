"""The optional dependencies of the batch workflow, imported when first needed.

jinja2 (``template_mode="jinja"``) and pyyaml (a machine's ``info.yaml``)
come with ``pip install 'psweep[batch]'``; psweep imports without them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from psweep.errors import MissingDependencyError

__all__ = [
    "require",
]


def require(module: str, purpose: str) -> ModuleType:
    """Import an optional dependency of the batch workflow, or say how to get it.

    Parameters
    ----------
    module
        Module name, ``"jinja2"`` or ``"yaml"``.
    purpose
        What needs it, for the message.

    Returns
    -------
    module

    Raises
    ------
    MissingDependencyError
        If the module cannot be imported; the message gives the install
        command. Also an ``ImportError``.

    Examples
    --------
    >>> from psweep.batch._optional import require
    >>> require("yaml", "reading info.yaml").__name__
    'yaml'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = {"yaml": "pyyaml"}.get(module, module)
        raise MissingDependencyError(
            f"{purpose} needs the package {package!r}, which is not installed. "
            f"Install the batch extra with: pip install 'psweep[batch]' "
            f"(or pip install {package})."
        ) from exc
