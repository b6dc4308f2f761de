"""The database file: reading it (cached while unchanged) and writing it atomically."""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Callable

import pandas as pd

from psweep.store._dbformat import header_of, read_header, restore, same_versions, write_frame
from psweep.store._problems import load_error
from psweep.errors import DatabaseError, DatabaseNotFoundError
from psweep._files import write_atomic

__all__ = [
    "read_database",
    "check_readable",
    "is_unchanged",
    "signature",
    "write_database",
]


Signature = tuple[int, ...]


def _signature_of(st: os.stat_result) -> Signature:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def signature(path: str) -> Signature | None:
    """What identifies the current content of the file `path`; None if missing.

    Every write replaces the database by a new file, so a changed file has
    another signature (inode, size and times). Read from the file opened,
    so that a mount's cached attributes do not hide another host's write.

    Parameters
    ----------
    path
        The database file.

    Returns
    -------
    tuple of int or None
    """
    # Through open and fstat, not stat: network and FUSE mounts may answer
    # a stat from attributes cached before another host replaced the file,
    # while opening it revalidates them (NFS's close-to-open consistency).
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        return _signature_of(os.fstat(fd))
    finally:
        os.close(fd)


def _read_pickle(path: str) -> tuple[pd.DataFrame, Signature]:
    try:
        with open(path, "rb") as fd:
            # The signature of the file opened, not of whatever the path
            # names after the load: a writer may replace it meanwhile.
            sig = _signature_of(os.fstat(fd.fileno()))
            header = read_header(fd)
            fd.seek(0)
            df = pickle.load(fd)
    except FileNotFoundError as exc:
        raise DatabaseNotFoundError(
            f"no psweep database at {path!r}. Check the path, or run a study "
            f"first (ps.run / f.over) to create it."
        ) from exc
    except Exception as exc:
        raise load_error(path, exc) from exc
    if not isinstance(df, pd.DataFrame):
        raise DatabaseError(
            f"the database {path!r} is damaged: it holds a {type(df).__name__}, "
            f"not a pandas DataFrame. The file was left unchanged; restore it "
            f"from a backup, or move it away or pass another database_basename."
        )
    return restore(df, header), sig


def check_readable(path: str) -> None:
    """Raise now if this process cannot read the database at `path` (before a run).

    Cheap when the file was written under this process's pandas and numpy
    (its header says so) and ends as a pickle does: then only its first
    and last bytes are read. Otherwise the database is read (and kept for
    the run's fold, see :func:`read_database`).

    Parameters
    ----------
    path
        The database file; a missing one is fine (a first run).

    Raises
    ------
    DatabaseVersionError
        If it was written under pandas/numpy versions whose pickles this
        process cannot rebuild; the message names them and the fix.
    DatabaseError
        If it cannot be read for another reason.
    """
    if not os.path.isfile(path) or (same_versions(header_of(path)) and _ends_like_a_pickle(path)):
        return
    with contextlib.suppress(DatabaseNotFoundError):
        read_database(path)


def _ends_like_a_pickle(path: str) -> bool:
    """Whether the file's last byte is pickle's STOP (a cut-off file's is usually not)."""
    try:
        with open(path, "rb") as fd:
            fd.seek(-1, os.SEEK_END)
            return fd.read(1) == b"."
    except OSError:
        return False


# The database this process wrote or read last, by path, with the file's
# signature: extending a study many times from one process then reads
# the file only when another process changed it. Callers always get a
# private copy (cheap under pandas' copy-on-write), so editing a returned
# frame never changes the cache.
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3 or bool(
    getattr(pd.options.mode, "copy_on_write", False) is True
)
_DB_CACHE: dict[str, tuple[Signature, pd.DataFrame]] = {}


def _private(df: pd.DataFrame) -> pd.DataFrame:
    return df.copy(deep=not _COPY_ON_WRITE)


def _remember(path: str, sig: Signature, df: pd.DataFrame) -> None:
    _DB_CACHE.clear()  # one database at most: bounded memory
    _DB_CACHE[os.path.abspath(path)] = (sig, _private(df))


def is_unchanged(path: str) -> bool:
    """Whether the file `path` is still the database this process last read or wrote.

    Parameters
    ----------
    path
        The database file.

    Returns
    -------
    bool
    """
    cached = _DB_CACHE.get(os.path.abspath(path))
    return cached is not None and cached[0] == signature(path)


def read_database(path: str, *, cache: bool = True) -> tuple[pd.DataFrame, Signature]:
    """The database at `path`, from this process's cache if the file is unchanged.

    Parameters
    ----------
    path
        The database file; it must exist.
    cache
        False: read the file, and neither look at nor fill the cache. For a
        reader that holds the frame itself and reads again only when the
        files change (``psweep ui``): the cache would keep a second copy of
        the frame (a deep one of its numeric columns without pandas'
        copy-on-write).

    Returns
    -------
    df : pandas.DataFrame
        A frame the caller may change freely.
    signature : tuple of int
        The :func:`signature` of the file `df` was read from.

    Raises
    ------
    DatabaseError
        If the file is not a pickled DataFrame (the file is left as is).
    """
    if not cache:
        return _read_pickle(path)
    cached = _DB_CACHE.get(os.path.abspath(path))
    if cached is not None and cached[0] == signature(path):
        return _private(cached[1]), cached[0]
    df, sig = _read_pickle(path)
    _remember(path, sig, df)
    return df, sig


def write_database(
    path: str, df: pd.DataFrame, may_replace: Callable[[], bool] | None = None
) -> bool:
    """Pickle `df` to `path` through a temporary file and ``os.replace``.

    The file is never torn: readers see the old or the new database. Call
    with the database lock held. The temporary file is locked (``flock``)
    while it is written, so that a cleanup of files left by killed writers
    can tell them from one being written.

    Parameters
    ----------
    path
        The database file.
    df
        The database.
    may_replace
        Called right before the replace, when the new file is complete:
        False leaves the database as it is (the caller found that another
        process changed it meanwhile).

    Returns
    -------
    bool
        Whether the database was replaced.
    """
    # The cached old database is about to be stale: freed now, its columns
    # do not sit beside the new ones while pickling (a big study's peak).
    _DB_CACHE.clear()
    written = write_atomic(path, lambda fobj: write_frame(fobj, df), may_replace=may_replace)
    if not written.replaced:
        return False
    sig = _signature_of(written.stat)
    _remember(path, sig, df)
    return True
