"""The writes a run makes before any pset runs, and what their failure says."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from psweep.errors import PsweepError
from psweep.store import write_error

__all__ = ["start_write"]


@contextlib.contextmanager
def start_write(calc_dir: str) -> Iterator[None]:
    """Turn an OSError of the writes before any pset runs into a StoreWriteError
    that says what to do: permissions (folder, owner, mode) or disk space.

    Parameters
    ----------
    calc_dir
        The folder written, for the message.
    """
    try:
        yield
    except PsweepError:
        raise
    except OSError as exc:
        raise write_error(calc_dir, exc) from exc
