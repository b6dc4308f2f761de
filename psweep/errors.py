"""Exceptions raised by psweep.

Every error derives from :class:`PsweepError` and from the builtin that fits
it, so ``except ValueError`` keeps working for callers that do not know
psweep. All of them take a single message argument and therefore pickle,
which matters because they cross process boundaries in pools and on Dask.
"""

from __future__ import annotations

import os
import sys

__all__ = [
    "PsweepError",
    "ParamsError",
    "ParamsTypeError",
    "CalcDirError",
    "DatabaseError",
    "DatabaseNotFoundError",
    "LockTimeoutError",
    "SweepPickleError",
    "FuncTypeError",
    "StoreWriteError",
    "TemplateError",
    "MissingDependencyError",
    "PsetTimeoutError",
]


class PsweepError(Exception):
    """Base class of all errors raised by psweep."""


class ParamsError(PsweepError, ValueError):
    """``params`` or one pset holds a value psweep cannot use."""


class ParamsTypeError(ParamsError, TypeError):
    """``params`` or one pset has the wrong type (not a dict, non-str key)."""


class FuncTypeError(PsweepError, TypeError):
    """The function to run over the psets is not usable (not callable, or
    not callable with one pset)."""


class CalcDirError(PsweepError, ValueError):
    """``calc_dir`` cannot be used as a calculation directory."""


class DatabaseError(PsweepError, ValueError):
    """The database file exists but cannot be read as a DataFrame."""


class DatabaseNotFoundError(PsweepError, FileNotFoundError):
    """The database file does not exist."""


class LockTimeoutError(PsweepError, TimeoutError):
    """The lock guarding a database could not be taken in time."""


class SweepPickleError(PsweepError, TypeError):
    """A decorated function cannot be sent to worker processes."""


class StoreWriteError(PsweepError, OSError):
    """Rows could not be written to the calc dir (e.g. the disk is full)."""


class TemplateError(PsweepError, ValueError):
    """A batch template or machine description cannot be used (see ``prep_batch``)."""


class MissingDependencyError(PsweepError, ImportError):
    """An optional dependency a feature needs is not installed."""


class PsetTimeoutError(PsweepError, TimeoutError):
    """A pset ran longer than ``timeout=`` seconds (its row is a failure)."""


def caller_stacklevel() -> int:
    """``stacklevel`` for :func:`warnings.warn` that points at the first
    frame outside psweep (the user's call), however deep psweep calls it.

    Returns
    -------
    int
    """
    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back
        level += 1
    return level
