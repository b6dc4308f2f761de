"""Planned psets: checked and hashed before any work, built as dicts only when they run.

A study of a million psets would otherwise hold a million planned dicts
(bookkeeping keys included, ~0.4 KB each) for the whole run, next to the
rows and the frame. :class:`PlannedPsets` keeps per pset only what the
database needs anyway (its hash and, once numbered, its id: both strings
end up in the frame) and a reference to the caller's pset, and builds the
dict a worker gets when the pset is taken.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from psweep.errors import ParamsError, ParamsTypeError
from psweep.params import LeftOut, collisions, left_out_digest, left_out_keys, warn_collisions
from psweep.params import hash_with_layout, key_layout
from psweep._schema import ENGINE_KEYS

__all__ = ["PlannedPsets", "plan_psets", "uuid4s"]

# Values that need no deep copy to protect the caller's params.
_IMMUTABLE = frozenset({int, float, str, bool, type(None), bytes, complex})

# UUIDs built per numpy pass (see uuid4s).
_UUID_CHUNK = 2048

# The two hex digits of each byte value, as ASCII, for building UUID text.
_HEX_PAIRS = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), dtype=np.uint16)


def uuid4s(n: int) -> list[str]:
    """`n` random (version 4) UUIDs as text, like ``str(uuid.uuid4())``.

    Built for all `n` at once with numpy, several times faster per id than
    ``uuid.uuid4()``: a run of many small psets spends noticeable time here.

    Parameters
    ----------
    n
        How many.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from psweep.engine._plan import uuid4s
    >>> ids = uuid4s(2)
    >>> len(ids[0]), ids[0][14], ids[0] != ids[1]
    (36, '4', True)
    """
    if n > _UUID_CHUNK:
        # In chunks: numpy's temporaries stay small enough to be reused
        # memory, not fresh pages each (a quarter of the page faults).
        ids: list[str] = []
        for start in range(0, n, _UUID_CHUNK):
            ids += uuid4s(min(_UUID_CHUNK, n - start))
        return ids
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    digits = _HEX_PAIRS[raw].view(np.uint8)  # (n, 32) ASCII hex digits
    text = np.full((n, 37), ord("-"), dtype=np.uint8)
    text[:, 36] = ord(" ")  # separator for the split below
    for start, stop, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        text[:, at : at + stop - start] = digits[:, start:stop]
    return text.tobytes().decode("ascii").split()


def _copy_pset(pset: Mapping[str, Any]) -> dict[str, Any]:
    """A copy the function may change freely, without the engine's keys."""
    if ENGINE_KEYS.isdisjoint(pset) and all(map(_IMMUTABLE.__contains__, map(type, pset.values()))):
        return dict(pset)
    return {k: v if type(v) in _IMMUTABLE else copy.deepcopy(v) for k, v in pset.items() if k not in ENGINE_KEYS}


class PlannedPsets(Sequence):
    """The psets of a run, in order; item ``i`` is a new dict each time.

    Parameters
    ----------
    sources
        The psets as given (a caller's sequence), or private copies.
    hashes
        ``_pset_hash`` of each.
    private
        Whether `sources` are copies nobody else holds (then taking a pset
        copies no values).
    left_out
        ``{index: (keys, digest)}`` of the psets that have keys the hash
        leaves out (see :mod:`psweep.params._leftout`); empty in most studies.
    """

    def __init__(
        self,
        sources: Sequence[Mapping[str, Any]],
        hashes: list[str],
        private: bool,
        left_out: LeftOut | None = None,
    ) -> None:
        self._sources = sources
        self._hashes = hashes
        self._private = private
        self.left_out: LeftOut = left_out or {}
        self._bookkeeping: tuple[str, str, int, int] | None = None
        self._ids: list[str] = []

    def __len__(self) -> int:
        return len(self._hashes)

    def __getitem__(self, index: int) -> dict[str, Any]:  # type: ignore[override]
        if isinstance(index, slice):
            raise TypeError("PlannedPsets does not slice; iterate instead")
        if index < 0:
            index += len(self)
        source = self._sources[index]
        pset = dict(source) if self._private else _copy_pset(source)
        if self._bookkeeping is not None:
            run_id, calc_dir, run_seq, first_seq = self._bookkeeping
            pset["_run_id"] = run_id
            pset["_pset_id"] = self._ids[index]
            pset["_calc_dir"] = calc_dir
            pset["_pset_hash"] = self._hashes[index]
            pset["_pset_seq"] = first_seq + index
            pset["_run_seq"] = run_seq
        else:
            pset["_pset_hash"] = self._hashes[index]
        return pset

    def __iter__(self) -> Iterator[dict[str, Any]]:
        # __getitem__ inlined: a run of trivial psets takes each through here.
        if self._bookkeeping is None:
            yield from map(self.__getitem__, range(len(self)))
            return
        run_id, calc_dir, run_seq, seq = self._bookkeeping
        private = self._private
        # _copy_pset's test for a pset of immutable values inlined.
        plain = ENGINE_KEYS.isdisjoint
        immutable = _IMMUTABLE.__contains__
        for source, pset_hash, pset_id in zip(self._sources, self._hashes, self._ids):
            if private or plain(source) and all(map(immutable, map(type, source.values()))):
                pset = dict(source)
            else:
                pset = _copy_pset(source)
            pset["_run_id"] = run_id
            pset["_pset_id"] = pset_id
            pset["_calc_dir"] = calc_dir
            pset["_pset_hash"] = pset_hash
            pset["_pset_seq"] = seq
            pset["_run_seq"] = run_seq
            seq += 1
            yield pset

    @property
    def hashes(self) -> list[str]:
        """``_pset_hash`` of each pset, in order."""
        return self._hashes

    def without_hashes(self, done: set[str]) -> PlannedPsets:
        """The psets whose hash is not in `done`, in order."""
        keep = [i for i, h in enumerate(self._hashes) if h not in done]
        if len(keep) == len(self):
            return self
        sources = self._sources
        left_out = {new: self.left_out[old] for new, old in enumerate(keep) if old in self.left_out}
        return PlannedPsets(
            [sources[i] for i in keep], [self._hashes[i] for i in keep], self._private, left_out
        )

    def number(self, run_id: str, calc_dir: str, run_seq: int, first_seq: int) -> None:
        """Give every pset its run's bookkeeping and an id of its own."""
        self._bookkeeping = (run_id, calc_dir, run_seq, first_seq)
        self._ids = uuid4s(len(self)) if len(self) else []


def plan_psets(params: Iterable[Mapping[str, Any]]) -> PlannedPsets:
    """Validate `params` and hash each pset, before any work.

    Parameters
    ----------
    params
        Iterable of dicts with string keys. A list (any sequence) is read
        again as psets run: do not change it during the run. Other
        iterables (generators) are copied here.

    Returns
    -------
    PlannedPsets
        Item ``i`` is a new copy of ``params[i]`` (values deep-copied,
        so the caller's psets are never modified) with ``_pset_hash``.

    Raises
    ------
    ParamsTypeError
        If `params` is not an iterable of dicts, or a key is not a str; the
        message gives the position of the offending pset.

    Warns
    -----
    UserWarning
        Once, if psets have the same hash only because of keys the hash
        leaves out (``n_``, ``_seed``; see :mod:`psweep.params._leftout`).

    Examples
    --------
    >>> from psweep.engine._plan import plan_psets
    >>> psets = plan_psets([{"a": 1}, {"a": 2}])
    >>> len(psets), psets[1]["a"], len(psets[1]["_pset_hash"])
    (2, 2, 40)
    """
    if isinstance(params, pd.DataFrame):
        raise ParamsTypeError(
            f"params is a DataFrame (columns {list(params.columns)!r:.100}), not a list of "
            f"dicts; iterating it would give its column names. Pass its rows as psets: "
            f"params=df.to_dict('records') (for the parameters of a database's rows: "
            f"ps.df_extract_params(df))."
        )
    if isinstance(params, (Mapping, str, bytes)) or not isinstance(params, Iterable):
        raise ParamsTypeError(
            f"params is a {type(params).__name__} ({params!r:.100}), not a "
            f"list of dicts. Build params with ps.plist/ps.pgrid, or pass a "
            f"list of dicts such as [{{'a': 1}}, {{'a': 2}}]."
        )
    # A sequence the caller holds is read again when psets run; a one-shot
    # iterable (which may even reuse one dict) is copied now.
    private = not isinstance(params, Sequence)
    copies: list[dict[str, Any]] = []
    hashes: list[str] = []
    left_out: LeftOut = {}
    # Hash layout and left-out keys per key set, checked once.
    key_sets: dict[tuple[Any, ...], Any] = {}
    for index, pset in enumerate(params):
        if type(pset) is not dict and not isinstance(pset, Mapping):
            raise ParamsTypeError(
                f"pset #{index} is a {type(pset).__name__}, not a dict: "
                f"{pset!r:.100}. Build params with ps.plist/ps.pgrid or a "
                f"list of dicts."
            )
        keys = tuple(pset)
        found = key_sets.get(keys)
        if found is None:
            for key in keys:
                if type(key) is not str and not isinstance(key, str):
                    raise ParamsTypeError(
                        f"pset #{index} has the key {key!r} of type "
                        f"{type(key).__name__}; keys are column names and must "
                        f"be str. Rename it, e.g. to {str(key)!r}."
                    )
            found = key_sets[keys] = (key_layout(keys), left_out_keys(keys))
        layout, left = found
        if private:
            pset = _copy_pset(pset)
            copies.append(pset)
        try:
            hashes.append(hash_with_layout(pset, layout))
        except ParamsError as exc:
            raise type(exc)(f"pset #{index}: {exc}") from exc
        if left:
            left_out[index] = (left, left_out_digest(pset, left))
    warn_collisions(*collisions(hashes, left_out), "params")
    return PlannedPsets(copies if private else params, hashes, private, left_out)  # type: ignore[arg-type]
