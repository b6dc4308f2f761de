"""Compatibility module: ``from psweep import psweep as ps`` gives the same API.

Scripts written for the original psweep import the module this way; every
public name of :mod:`psweep` is available here too.
"""

from __future__ import annotations

from psweep import *  # noqa: F403
from psweep import __all__, __version__  # noqa: F401
