"""psweep 0.16's UUID helpers: random ids, distinct from ones already taken.

The engine hands out ``_run_id`` and ``_pset_id`` itself; these serve
scripts that name things of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from psweep.errors import PsweepError

__all__ = [
    "get_uuid",
    "get_many_uuids",
]


def get_uuid(retry: int = 10, existing: Iterable[str] = ()) -> str:
    """A random UUID (version 4) as text, not in `existing`.

    Parameters
    ----------
    retry
        Attempts before giving up.
    existing
        UUIDs to avoid, e.g. ``df._pset_id``.

    Returns
    -------
    str
        36 characters, e.g. ``'b5233ba3-25eb-40ac-b2b1-d1babbacd904'``.

    Raises
    ------
    PsweepError
        If every attempt hit `existing` (practically never).

    Examples
    --------
    >>> import psweep as ps
    >>> len(ps.get_uuid())
    36
    """
    return get_many_uuids(1, retry=retry, existing=existing)[0]


def get_many_uuids(num: int, retry: int = 10, existing: Iterable[str] = ()) -> list[str]:
    """`num` distinct random UUIDs as text, none in `existing`.

    Parameters
    ----------
    num
        How many.
    retry
        Attempts before giving up.
    existing
        UUIDs to avoid.

    Returns
    -------
    list of str

    Raises
    ------
    PsweepError
        If no attempt gave `num` new distinct UUIDs.

    Examples
    --------
    >>> import psweep as ps
    >>> ids = ps.get_many_uuids(3)
    >>> len(set(ids)), all(len(i) == 36 for i in ids)
    (3, True)
    """
    avoid = set(existing)
    for _ in range(max(int(retry), 1)):
        fresh = {str(uuid.uuid4()) for _ in range(num)}
        if len(fresh) == num and not fresh & avoid:
            return list(fresh)
    raise PsweepError(
        f"could not make {num} UUIDs distinct from each other and from the "
        f"{len(avoid)} existing ones in {retry} attempts; pass a larger retry="
    )
