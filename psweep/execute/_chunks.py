"""The chunk stream: which psets go to workers next, and how many at once.

Chunks adapt in size so that each takes about :data:`CHUNK_SECONDS` of
work: big enough that tiny psets don't drown in inter-process overhead,
small enough that finished rows reach the driver (and the disk) quickly.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["CHUNK_SECONDS", "MAX_CHUNK", "PsetQueue", "next_chunk_size", "update_estimate"]

CHUNK_SECONDS = 0.2
MAX_CHUNK = 10_000


class PsetQueue:
    """Psets waiting to be sent to workers, taken lazily from a sequence.

    Like a ``collections.deque`` of `psets` (``popleft``, ``extendleft``,
    ``len``), but a pset is built only when it is taken, so a run of a
    million psets does not hold a million dicts at once.

    Parameters
    ----------
    psets
        The planned psets.
    """

    def __init__(self, psets: Sequence[dict[str, Any]]) -> None:
        self._next = iter(psets)
        self._left = len(psets)
        self._returned: deque[dict[str, Any]] = deque()

    def __len__(self) -> int:
        return self._left

    def popleft(self) -> dict[str, Any]:
        """The next pset."""
        if not self._left:
            raise IndexError("pop from an empty PsetQueue")
        self._left -= 1
        return self._returned.popleft() if self._returned else next(self._next)

    def extendleft(self, psets: Iterable[dict[str, Any]]) -> None:
        """Put psets back in front (like ``deque.extendleft``: reversed)."""
        psets = list(psets)
        self._returned.extendleft(psets)
        self._left += len(psets)


def next_chunk_size(per_pset: float | None, remaining: int, workers: int) -> int:
    """Psets for the next chunk: ~CHUNK_SECONDS of work, balanced at the end."""
    if per_pset is None:
        return 1
    size = int(CHUNK_SECONDS / per_pset) if per_pset > 0 else MAX_CHUNK
    balanced = -(-remaining // (2 * workers))
    return max(1, min(size, balanced, MAX_CHUNK))


def update_estimate(per_pset: float | None, rows: list[dict[str, Any]]) -> float | None:
    """Running estimate of seconds per pset from a finished chunk."""
    runtimes = [r["_pset_runtime"] for r in rows if r["_pset_runtime"] == r["_pset_runtime"]]
    if not runtimes:
        return per_pset
    estimate = max(sum(runtimes) / len(runtimes), 1e-7)
    return estimate if per_pset is None else 0.5 * (per_pset + estimate)
