"""Helpers for the tests of run()'s steps: options as ps.run resolves them."""

from __future__ import annotations

import inspect

import psweep as ps
import workers
from psweep.engine._options import RunOptions, run_options


def options_for(func=workers.square, **changes) -> RunOptions:
    """run_options with ps.run's defaults, changed by `changes`."""
    keywords = {
        name: parameter.default
        for name, parameter in inspect.signature(ps.run).parameters.items()
        if name not in ("func", "params")
    }
    keywords.update(changes)
    return run_options(func, **keywords)
