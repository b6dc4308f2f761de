"""Why a database file or journal record cannot be read, in words that say what to do.

A pickle fails to load for three kinds of reasons, with three different
fixes: it was written under pandas/numpy versions (or with packages) this
process lacks (upgrade, or read it where it was written); it holds an
object of a user's class this process cannot import (import it first);
or it is damaged (restore it from a backup). The file's header
(:mod:`psweep.store._dbformat`) names the writer's versions; without one (older
psweep, plain pandas) the missing class tells.
"""

from __future__ import annotations

import importlib.util
import io
import pickle
from typing import IO, Any

import numpy as np
import pandas as pd

from psweep.store._legacy016 import unreadable_message
from psweep.store._dbformat import header_of, same_versions, upgrades_needed, writer_versions
from psweep.errors import DatabaseError, DatabaseVersionError

__all__ = ["missing_class", "unpickling_problem", "load_error"]


class _MissingClass(Exception):
    def __init__(self, module: str, name: str) -> None:
        super().__init__(module, name)
        self.module, self.name = module, name


class _ProbingUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError) as exc:
            raise _MissingClass(module, name) from exc


def missing_class(fobj: IO[bytes]) -> tuple[str, str] | None:
    """The (module, name) of a class the pickle in `fobj` needs and this process lacks.

    Parameters
    ----------
    fobj
        A binary file positioned at the start of the pickle.

    Returns
    -------
    tuple of str or None
        None if no class is missing (the pickle may still be damaged).
    """
    try:
        _ProbingUnpickler(fobj).load()
    except _MissingClass as exc:
        return exc.module, exc.name
    except Exception:
        return None
    return None


def _foreign_class(module: str, name: str, path: str | None = None) -> str | None:
    """Why a missing `module`.`name` is a matter of installed packages, or None (a user's class).

    `path`: the database file, for the fix of a file an older psweep wrote.
    """
    top = module.split(".")[0]
    if top not in ("numpy", "pandas"):
        try:
            installed = importlib.util.find_spec(top) is not None
        except (ImportError, ValueError):
            installed = False
        if installed or top == "__main__":
            return None
        return (
            f"needs the package {top!r} (for {module}.{name}), which is not "
            f"installed here: install it (pip install {top}) and read it again"
        )
    ours = np.__version__ if top == "numpy" else pd.__version__
    if module.startswith("numpy._core") and int(np.__version__.split(".")[0]) < 2:
        written = "numpy 2 or later"
    else:
        written = f"a {top} other than this process's {top} {ours}"
    if path is None:
        fix = "Read it where it was written, or upgrade numpy and pandas here"
    else:
        # Files of this psweep name only what every supported version has.
        fix = (
            f"An older psweep (or plain pandas) wrote it; where it was written, rewrite "
            f"it once with this psweep (ps.df_write({path!r}, ps.df_read({path!r})); a "
            f"run that records rows there does it too), and every supported pandas and "
            f"numpy reads it. Or upgrade numpy and pandas here"
        )
    return f"names {module}.{name}, which {top} {ours} lacks: it was written under {written}. {fix}"


def unpickling_problem(payload: bytes, exc: BaseException) -> str:
    """Why `payload` could not be unpickled (raising `exc`), with the fix if any.

    Parameters
    ----------
    payload
        The pickle.
    exc
        What ``pickle.loads`` raised.

    Returns
    -------
    str
    """
    missing = missing_class(io.BytesIO(payload))
    if missing is None:
        return f"cannot be unpickled: {type(exc).__name__}: {exc}"
    module, name = missing
    foreign = _foreign_class(module, name)
    if foreign is not None:
        return foreign
    return (
        f"holds an object of class {name!r} from module {module!r}, which this "
        f"process cannot import. Define the class in an importable module "
        f"(not a script's __main__) and import it before reading"
    )


def _version_message(path: str, header: dict[str, Any], exc: BaseException) -> str:
    """Why a file written under other pandas/numpy versions cannot be read here."""
    upgrades = upgrades_needed(header)
    if upgrades:
        specs = " ".join(repr(spec) for spec in upgrades)
        fix = (
            f"Upgrade here (pip install {specs}), or read it where "
            f"{writer_versions(header)} is installed."
        )
    else:
        fix = (
            f"Read it where {writer_versions(header)} is installed (e.g. the "
            f"environment that wrote it), and report this at psweep's issues."
        )
    return (
        f"cannot read the database {path!r}: it was written under "
        f"{writer_versions(header)}, and this process has pandas {pd.__version__} "
        f"with numpy {np.__version__}, which cannot rebuild it "
        f"({type(exc).__name__}: {exc}). The file is intact and was left "
        f"unchanged. {fix}"
    )


def load_error(path: str, exc: BaseException) -> DatabaseError:
    """The error for the database file `path`, which unpickling failed on with `exc`.

    Parameters
    ----------
    path
        The database file.
    exc
        What unpickling it raised.

    Returns
    -------
    DatabaseError
        A :class:`~psweep.errors.DatabaseVersionError` when versions or
        packages are the reason (never "damaged"); else one that says the
        file is damaged, or holds a class this process cannot import.
    """
    header = header_of(path)
    truncated = isinstance(exc, (EOFError, pickle.UnpicklingError))
    if header is not None and not same_versions(header) and not truncated:
        return DatabaseVersionError(_version_message(path, header, exc))
    with open(path, "rb") as fd:
        missing = missing_class(fd)
    if missing is None and isinstance(exc, ImportError) and not truncated:
        # A class found, but it needs a package this process lacks (e.g. a
        # pandas column backed by pyarrow).
        return DatabaseVersionError(
            f"cannot read the database {path!r}: it is intact but needs a package "
            f"this process lacks ({type(exc).__name__}: {exc}). Install it and read "
            f"it again; the file was left unchanged."
        )
    if missing is None and not truncated and _complete_pickle(path):
        return _unbuildable(path, header, exc)
    if missing is None:
        return DatabaseError(unreadable_message(path, exc))
    module, name = missing
    foreign = _foreign_class(module, name, path)
    if foreign is not None:
        return DatabaseVersionError(
            f"cannot read the database {path!r}: it is intact but {foreign} "
            f"({type(exc).__name__}: {exc}). The file was left unchanged."
        )
    return DatabaseError(
        f"the database {path!r} is intact but holds objects of class "
        f"{name!r} from module {module!r}, which this process cannot "
        f"import ({type(exc).__name__}: {exc}). Read it where that class "
        f"can be imported: define the class in an importable module "
        f"(not a script's __main__) and import it before reading."
    )


def _complete_pickle(path: str) -> bool:
    """Whether the file begins and ends as a pickle of protocol 2 or later does."""
    try:
        with open(path, "rb") as fd:
            first = fd.read(1)
            fd.seek(-1, 2)
            return first == b"\x80" and fd.read(1) == b"."
    except OSError:
        return False


def _unbuildable(path: str, header: dict[str, Any] | None, exc: BaseException) -> DatabaseError:
    """The error for a whole pickle whose objects this process fails to rebuild (not a damaged file)."""
    found = f"({type(exc).__name__}: {exc})"
    if header is None:
        # No versions recorded (an older psweep, or plain pandas): the
        # usual cause is a newer pandas's object, e.g. pandas 3's str dtype.
        return DatabaseVersionError(
            f"cannot read the database {path!r}: it is a whole pickle, but this "
            f"process (pandas {pd.__version__} with numpy {np.__version__}) cannot "
            f"rebuild its objects {found}, most likely because another pandas or "
            f"numpy wrote it. An older psweep (or plain pandas) wrote it; where it was "
            f"written, rewrite it once with this psweep (ps.df_write({path!r}, "
            f"ps.df_read({path!r})); a run that records rows there does it too), and "
            f"every supported pandas and numpy reads it. Or upgrade pandas and numpy "
            f"here. The file was left unchanged."
        )
    return DatabaseError(
        f"cannot read the database {path!r}: it is a whole pickle written under "
        f"this process's pandas and numpy, but an object in it cannot be rebuilt "
        f"{found}, e.g. one of a class whose code changed since. The file was left "
        f"unchanged; read it where that code is as it was, or restore a backup."
    )

