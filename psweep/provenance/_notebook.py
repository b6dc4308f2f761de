"""Running inside a Jupyter kernel: the notebook's path and the code run so far.

A notebook has no source file to copy and its kernel's command line
(``ipykernel_launcher -f kernel-1234.json``) names no study, so a run in a
kernel records the code of every cell executed so far, from the kernel's
history, and the notebook's path where the frontend tells it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["kernel_shell", "notebook_path", "notebook_source", "command_line"]

# How frontends tell a kernel its notebook: jupyter_server (2.0+) sets the
# environment variable to the notebook's path, which ipykernel copies to
# ``__session__``; VS Code sets ``__vsc_ipynb_file__``.
_PATH_VARIABLES = ("__vsc_ipynb_file__", "__session__")
_PATH_ENV = "JPY_SESSION_NAME"


def kernel_shell() -> Any:
    """The IPython shell of the Jupyter kernel this process is, or None.

    Never imports IPython: outside a kernel this is a dict look-up. A
    terminal IPython (no kernel) gives None.

    Returns
    -------
    IPython.core.interactiveshell.InteractiveShell or None
    """
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    shell = ipython.get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    return shell


def notebook_path(shell: Any) -> str | None:
    """Path of the notebook `shell` runs, as its frontend gave it, or None.

    Parameters
    ----------
    shell
        From :func:`kernel_shell`.

    Returns
    -------
    str or None
    """
    candidates = [shell.user_ns.get(name) for name in _PATH_VARIABLES]
    candidates.append(os.environ.get(_PATH_ENV))
    for value in candidates:
        # JupyterLab names a console's session "Console 1-<uuid>": no notebook.
        if isinstance(value, str) and value.endswith(".ipynb"):
            return value
    return None


def notebook_source() -> str | None:
    """In a Jupyter kernel: the notebook's path and the code of every cell run so far.

    The cells come from the kernel's history (IPython's ``In``), in the
    order they ran, as IPython turned them into Python (magics become
    ``get_ipython()`` calls), so the text is a valid ``.py`` file. Cells
    edited since they ran appear as they ran.

    Returns
    -------
    str or None
        None outside a Jupyter kernel.
    """
    shell = kernel_shell()
    if shell is None:
        return None
    path = notebook_path(shell) or "unknown (the frontend did not tell the kernel)"
    parts = [
        "# Recorded by psweep: the code of every cell run in this Jupyter kernel\n"
        "# up to the run, in order (In[n] is the cell's execution count).\n"
        f"# notebook: {path}\n"
    ]
    cells = shell.history_manager.input_hist_parsed
    for count, code in enumerate(cells):
        if code.strip():
            parts.append(f"\n# In[{count}]:\n{code.rstrip()}\n")
    return "".join(parts)


def command_line() -> list[str]:
    """What started this study: ``sys.argv``, or in a kernel the notebook.

    Returns
    -------
    list of str
        In a Jupyter kernel, ``[<notebook path>]`` (or
        ``["<Jupyter kernel>"]`` when the path is unknown) instead of the
        kernel's own ``ipykernel_launcher -f ...``.
    """
    shell = kernel_shell()
    if shell is None:
        return list(sys.argv)
    return [notebook_path(shell) or "<Jupyter kernel>"]
