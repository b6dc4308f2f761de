"""Exceptions raised by psweep.

Every error derives from :class:`PsweepError` and from the builtin that fits
it, so ``except ValueError`` keeps working for callers that do not know
psweep. All of them take a single message argument and therefore pickle,
which matters because they cross process boundaries in pools and on Dask.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Iterable, Sequence

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
    "TemplatePlaceholderError",
    "MissingDependencyError",
    "OptionError",
    "PsweepHashError",
    "GitError",
    "PsetTimeoutError",
]


class PsweepError(Exception):
    """Base class of all errors raised by psweep."""


class ParamsError(PsweepError, ValueError):
    """``params`` or one pset holds a value psweep cannot use."""


class ParamsTypeError(ParamsError, TypeError):
    """``params`` or one pset has the wrong type (not a dict, non-str key)."""


class PsweepHashError(ParamsTypeError):
    """A pset value has no stable hash (a lambda, a local class, an object
    that cannot be pickled); the message names the key."""


class GitError(PsweepError, RuntimeError):
    """The git work tree is not in the state a git helper needs."""


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


class TemplatePlaceholderError(TemplateError, KeyError):
    """A template placeholder that the pset does not fill.

    Also a ``KeyError``, which psweep 0.16 raised for it, so that its
    users' ``except KeyError:`` keeps working; ``str()`` is the message
    itself (a plain ``KeyError`` would quote it).

    Examples
    --------
    >>> from psweep.errors import TemplatePlaceholderError
    >>> exc = TemplatePlaceholderError("template 'a.txt': placeholder 'b' not in the pset.")
    >>> isinstance(exc, (KeyError, ValueError)), str(exc)
    (True, "template 'a.txt': placeholder 'b' not in the pset.")
    """

    def __str__(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class MissingDependencyError(PsweepError, ImportError):
    """An optional dependency a feature needs is not installed."""


class OptionError(PsweepError, TypeError):
    """An option (keyword argument) that ``ps.run``, ``@ps.sweep`` or ``.over()`` does not have."""


def check_options(names: Iterable[str], known: Sequence[str], where: str) -> None:
    """Raise :class:`OptionError` for names not in `known`, suggesting the closest.

    Parameters
    ----------
    names
        The option names given.
    known
        The valid ones, in the order to list them.
    where
        What was called, for the message, e.g. ``"ps.run()"``.

    Examples
    --------
    >>> from psweep.errors import check_options
    >>> check_options(["calcdir"], ["calc_dir", "poolsize"], "ps.run()")
    Traceback (most recent call last):
    ...
    psweep.errors.OptionError: ps.run(): unknown option 'calcdir' (did you mean 'calc_dir'?). ...
    """
    unknown = [name for name in names if name not in known]
    if not unknown:
        return
    described = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        described.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    raise OptionError(
        f"{where}: unknown option{'s' if len(unknown) > 1 else ''} {', '.join(described)}. "
        f"Options are the keyword arguments of ps.run(): {', '.join(known)}."
    )
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


class DatabaseVersionError(DatabaseError):
    """The database file is intact, but was written under pandas/numpy
    versions (or with packages) whose objects this process cannot rebuild."""
