"""Which database a calc dir holds: the one place that decides.

A calc dir keeps its rows in ``<calc_dir>/results.pk``. A calc dir made by
psweep 0.16 holds ``database.pk`` instead, and goes on with that file.
Every reader and writer (:func:`psweep.run`, :func:`psweep.prep_batch`,
:func:`psweep.runs`, :func:`psweep.df_read`, :func:`psweep.df_write`, the
``psweep`` command) asks :func:`database_name` or
:func:`resolve_database`, so that none of them starts a second database
beside the one a calc dir already has.
"""

from __future__ import annotations

import os
import warnings

from psweep.errors import caller_stacklevel
from psweep._schema import BASENAME_016, DEFAULT_BASENAME, JOURNAL_SUFFIXES, journal_dir

__all__ = ["DEFAULT_BASENAME", "BASENAME_016", "database_name", "has_database", "resolve_database"]


# Calc dirs this process has said it uses database.pk in: say it once.
_ANNOUNCED: set[str] = set()


def has_database(calc_dir: str, basename: str) -> bool:
    """Whether `basename` in `calc_dir` holds rows: the file, or journals.

    Parameters
    ----------
    calc_dir
        The calc dir.
    basename
        The database's file name.

    Returns
    -------
    bool
        True if ``<calc_dir>/<basename>`` exists, or journals of runs
        on it do (rows not yet folded into a file).

    Examples
    --------
    >>> from psweep.store._calcdir import has_database
    >>> has_database("no/such/calc", "results.pk")
    False
    """
    if os.path.exists(os.path.join(calc_dir, basename)):
        return True
    # The folder psweep.store keeps journals in (a run killed before its
    # first fold has rows only there).
    journals = journal_dir(calc_dir, basename)
    try:
        return any(name.endswith(JOURNAL_SUFFIXES) for name in os.listdir(journals))
    except OSError:
        return False


def database_name(calc_dir: str | os.PathLike[str], database_basename: str | None = None) -> str:
    """The file name of the database that `calc_dir` holds.

    Parameters
    ----------
    calc_dir
        The calc dir (it need not exist).
    database_basename
        A name the caller chose; returned as it is. None (the default of
        every psweep function): decide from what `calc_dir` holds.

    Returns
    -------
    str
        `database_basename` if given; else ``results.pk``, unless
        `calc_dir` holds psweep 0.16's ``database.pk`` and no
        ``results.pk`` (nor journals of one): then ``database.pk``, which
        is continued. A warning says so, once per calc dir and process.

    Examples
    --------
    >>> from psweep.store._calcdir import database_name
    >>> database_name("a/calc/dir/that/does/not/exist")
    'results.pk'
    >>> database_name("calc", "mine.pk")
    'mine.pk'
    """
    if database_basename is not None:
        return database_basename
    calc_dir = os.fspath(calc_dir)
    if has_database(calc_dir, DEFAULT_BASENAME) or not os.path.isfile(
        os.path.join(calc_dir, BASENAME_016)
    ):
        return DEFAULT_BASENAME
    announce(
        calc_dir,
        f"psweep: {calc_dir!r} holds psweep 0.16's {BASENAME_016} and no "
        f"{DEFAULT_BASENAME}: using {BASENAME_016}. Its rows get our "
        f"_pset_hash, _failed and a _time_utc index; the file takes that "
        f"format on the next run's write (back it up first with "
        f"backup=True).",
    )
    return BASENAME_016


def resolve_database(path: str | os.PathLike[str], reading: bool = False) -> tuple[str, str]:
    """(calc_dir, database_basename) of a calc dir or a database file path.

    Parameters
    ----------
    path
        A calc dir (its database, see :func:`database_name`) or a
        database file.
    reading
        For a read: a missing ``<calc_dir>/database.pk`` (0.16's name, as
        0.16 scripts spell it) beside an existing ``results.pk`` means
        that one (with a warning, once per calc dir and process).

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> from psweep.store._calcdir import resolve_database
    >>> resolve_database("calc/results.pk")
    ('calc', 'results.pk')
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        return path, database_name(path)
    calc_dir, basename = os.path.split(path)
    calc_dir = calc_dir or "."
    if (
        reading
        and basename == BASENAME_016
        and not has_database(calc_dir, BASENAME_016)
        and has_database(calc_dir, DEFAULT_BASENAME)
    ):
        announce(
            calc_dir,
            f"psweep: {path!r} does not exist (psweep 0.16's name); reading "
            f"{os.path.join(calc_dir, DEFAULT_BASENAME)!r}, the database psweep writes now.",
        )
        return calc_dir, DEFAULT_BASENAME
    return calc_dir, basename


def announce(calc_dir: str, message: str) -> None:
    """Warn with `message`, once per calc dir and process.

    A :class:`UserWarning` pointing at the user's call; the ``psweep``
    command prints it as one plain line.
    """
    key = os.path.abspath(calc_dir)
    if key not in _ANNOUNCED:
        _ANNOUNCED.add(key)
        warnings.warn(message, UserWarning, stacklevel=caller_stacklevel())
