"""The database file's format: a header, then a pickle that every supported pandas and numpy loads.

The pickle is :class:`psweep.store._pickler.PortablePickler`'s, of the
frame with its ``str`` columns as ``object`` (:func:`restore` gives them
their dtype back).

The file begins with a header: a JSON text that the pickle pushes and
pops again, so that pickle and pandas skip it. It holds the writer's pandas,
numpy and Python versions, so a reader learns them from the first bytes
(:func:`read_header`) without unpickling the file: to tell a file it
cannot read because of versions from a damaged one, and to check before a
run whether it can extend a database written elsewhere. Being part of the
file it is written and replaced atomically with the data, and a file copied
from a backup brings its own.
"""

from __future__ import annotations

import json
import pickle
import platform
import struct
from typing import IO, Any

import numpy as np
import pandas as pd

from psweep.store._pickler import PortablePickler, object_strings

__all__ = [
    "FORMAT",
    "write_frame",
    "read_header",
    "restore",
    "same_versions",
    "writer_versions",
]

FORMAT = "psweep-database"
_FORMAT_VERSION = 1

# The header: PROTO 5, BINUNICODE <4-byte length> <JSON>, POP; then the
# pickle proper, which begins with its own PROTO.
_HEADER_START = b"\x80\x05X"
_HEADER_LENGTH = struct.Struct("<I")
_POP = b"0"
_MAX_HEADER = 1 << 24


def _header(positions: list[int]) -> bytes:
    info = {
        "format": FORMAT,
        "format_version": _FORMAT_VERSION,
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "str_columns": positions,
    }
    text = json.dumps(info, separators=(",", ":")).encode()
    return _HEADER_START + _HEADER_LENGTH.pack(len(text)) + text + _POP


def write_frame(fobj: IO[bytes], df: pd.DataFrame) -> None:
    """Write `df` to `fobj` as a database file: the header, then the pickle.

    Parameters
    ----------
    fobj
        A binary file open for writing.
    df
        The frame.

    Examples
    --------
    >>> import io, pandas as pd
    >>> from psweep.store._dbformat import read_header, write_frame
    >>> buffer = io.BytesIO()
    >>> write_frame(buffer, pd.DataFrame({"a": [1, 2]}))
    >>> pd.read_pickle(io.BytesIO(buffer.getvalue())).a.tolist()
    [1, 2]
    >>> read_header(io.BytesIO(buffer.getvalue()))["pandas"] == pd.__version__
    True
    """
    portable, positions = object_strings(df)
    fobj.write(_header(positions))
    PortablePickler(fobj, protocol=pickle.HIGHEST_PROTOCOL).dump(portable)


def read_header(fobj: IO[bytes]) -> dict[str, Any] | None:
    """The header of a database file, or None if it has none (older or foreign files).

    Reads only the first bytes; the file position is left after the header.

    Parameters
    ----------
    fobj
        A binary file positioned at its start.

    Returns
    -------
    dict or None
        ``pandas``, ``numpy`` and ``python``: the writer's versions;
        ``str_columns``: positions of the columns written from ``str``.
    """
    start = fobj.read(len(_HEADER_START) + _HEADER_LENGTH.size)
    if not start.startswith(_HEADER_START) or len(start) < len(_HEADER_START) + _HEADER_LENGTH.size:
        return None
    (length,) = _HEADER_LENGTH.unpack(start[len(_HEADER_START) :])
    if length > _MAX_HEADER:
        return None
    text = fobj.read(length + 1)
    if len(text) != length + 1 or text[-1:] != _POP:
        return None
    try:
        info = json.loads(text[:-1])
    except ValueError:
        return None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        return None
    return info


def header_of(path: str) -> dict[str, Any] | None:
    """:func:`read_header` of the file at `path` (None if it is missing or has none)."""
    try:
        with open(path, "rb") as fobj:
            return read_header(fobj)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _nan_str_dtype() -> Any:
    """pandas' ``str`` dtype, where this pandas has it (2.3 and later), else None."""
    try:
        return pd.StringDtype(na_value=np.nan)
    except TypeError:
        return None


def restore(df: Any, header: dict[str, Any] | None) -> Any:
    """`df` as read from a file with `header`, its ``str`` columns given back their dtype.

    Where this pandas lacks ``str`` (before 2.3) they stay ``object``, the
    dtype pandas 2 gives strings. Column labels that are all strings get
    this pandas' own Index for them (``str`` from pandas 3 on), also in
    files written by pandas 2.

    Parameters
    ----------
    df
        The unpickled object (a frame, normally).
    header
        The file's header, or None.

    Returns
    -------
    The same object; a frame is changed in place.
    """
    if not isinstance(df, pd.DataFrame):
        return df
    columns = df.columns
    if type(columns) is pd.Index and columns.dtype == np.dtype(object) and len(columns):
        natural = pd.Index(columns.tolist(), name=columns.name)
        if natural.dtype != object and all(isinstance(c, str) for c in columns):
            df.columns = natural
    positions = (header or {}).get("str_columns") or []
    dtype = _nan_str_dtype()
    if not positions or dtype is None:
        return df
    for i in positions:
        if isinstance(i, int) and 0 <= i < df.shape[1] and df.dtypes.iloc[i] == np.dtype(object):
            df.isetitem(i, df.iloc[:, i].astype(dtype))
    return df


def same_versions(header: dict[str, Any] | None) -> bool:
    """Whether the file of `header` was written under this process's pandas and numpy.

    Parameters
    ----------
    header
        A header from :func:`read_header`, or None (unknown writer: False).

    Returns
    -------
    bool
    """
    return header is not None and header.get("pandas") == pd.__version__ and header.get("numpy") == np.__version__


def writer_versions(header: dict[str, Any]) -> str:
    """The writer's versions in words, e.g. ``"pandas 3.0.1 with numpy 2.3.4"``."""
    return f"pandas {header.get('pandas', '?')} with numpy {header.get('numpy', '?')}"


def _version_tuple(text: Any) -> tuple[int, ...]:
    parts = []
    for piece in str(text).split("."):
        digits = "".join(c for c in piece if c.isdigit()) if piece[:1].isdigit() else ""
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def upgrades_needed(header: dict[str, Any]) -> list[str]:
    """Packages this process would have to upgrade to the writer's versions, as pip specs.

    Parameters
    ----------
    header
        A header from :func:`read_header`.

    Returns
    -------
    list of str
        E.g. ``["pandas>=3.0.1", "numpy>=2.3.4"]``; empty if ours are as new.
    """
    needed = []
    for name, ours in (("pandas", pd.__version__), ("numpy", np.__version__)):
        theirs = header.get(name)
        if theirs and _version_tuple(theirs) > _version_tuple(ours):
            needed.append(f"{name}>={theirs}")
    return needed
