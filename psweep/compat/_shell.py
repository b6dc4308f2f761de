"""psweep 0.16's shell helper: run a command line, fail loudly with its output.

Study scripts call programs per pset with it; the engine never does.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

__all__ = [
    "system",
]


def system(cmd: str, **kwds: Any) -> subprocess.CompletedProcess:
    """Run a shell command; fail loudly, with its output, if it fails.

    Parameters
    ----------
    cmd
        Shell command line; chain several with ``&&`` so that a failing one
        stops the rest.
    **kwds
        Passed to :func:`subprocess.run` (e.g. ``cwd=``, ``env=``).

    Returns
    -------
    subprocess.CompletedProcess
        ``.stdout`` holds stdout and stderr together, as bytes.

    Raises
    ------
    subprocess.CalledProcessError
        If the command exits non-zero; its output is printed first.

    Examples
    --------
    >>> import psweep as ps
    >>> ps.system("echo hello").stdout.decode()
    'hello\\n'
    """
    try:
        return subprocess.run(
            cmd, shell=True, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwds
        )
    except subprocess.CalledProcessError as exc:
        print(exc.stdout.decode(errors="replace"), file=sys.stderr)
        raise
