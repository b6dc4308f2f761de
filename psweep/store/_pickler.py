"""A pickler whose output every supported pandas and numpy loads.

A calc dir moves between machines (a laptop on pandas 3 with numpy 2, a
cluster module on pandas 2.2 with numpy 1.26), and each must read what the
other wrote, through :func:`psweep.df_read` and through plain
``pd.read_pickle`` (issue 20, item 4). A pickle names the functions and
classes that rebuild each object, and some of those moved: numpy 2 pickles
arrays through ``numpy._core``, which numpy 1 lacks; pandas 3 pickles its
default string dtype ``str``, which pandas 2.2 lacks, and the state of its
datetime, period and string arrays in a form pandas 2 refuses.
:class:`PortablePickler` writes such objects through names and forms that
both sides share:

* numpy arrays as ``numpy.ndarray(shape, dtype, buffer)`` (the buffer is
  written in place, as numpy's own protocol-5 pickle does), arrays of
  objects as ``numpy.ndarray`` and its state; numpy scalars as a 0-d array
  indexed by ``()``, or ``numpy.float64(x)`` and the like;
* a ``str`` column as an object array (NaN where missing); the header
  lists those columns, and :func:`psweep.store._dbformat.restore` gives them back their dtype
  where the reading pandas has it (2.3 and later);
* an ``Index`` of ``str`` as a list of its labels, which each pandas turns
  into its own default (``str`` under pandas 3, ``object`` before);
* ``StringDtype`` with pandas' ``NA`` (the ``string`` dtype) by its storage
  alone, and pandas arrays backed by one numpy array (datetimes, periods,
  categoricals, strings) with the 3-item state every pandas reads.

Columns of distinct strings (``_pset_id``, ``_pset_hash``) are most of the
time of pickling a big database: pickle writes and memoizes each string
(~0.6 us each). Such a column is pickled as one text, which builtins and
numpy split into the same object array on load. Columns of repeated strings
(``_run_id``) keep pickle's memo, which stores each distinct string once
and shares it after loading.
"""

from __future__ import annotations

import operator
import pickle
from typing import IO, Any

import numpy as np
import pandas as pd

try:  # the base of pandas' arrays backed by one numpy array
    from pandas._libs.arrays import NDArrayBacked as _NDArrayBacked
except ImportError:  # pragma: no cover - a pandas without it pickles them its own way
    _NDArrayBacked = ()

__all__ = ["PortablePickler", "object_strings"]

_JOINED_MIN_ROWS = 1000
_SEPARATOR = "\0"

# Scalars rebuilt by their numpy class from a Python value, exactly: the
# class names are the same under numpy 1 and 2 (unlike numpy.bool_).
_SCALAR_VALUES = {np.float64: float, np.float32: float, np.int64: int, np.int32: int}


def _is_nan_str(dtype: Any) -> bool:
    """Whether `dtype` is pandas' ``str`` (a StringDtype whose missing value is NaN)."""
    return isinstance(dtype, pd.StringDtype) and getattr(dtype, "na_value", pd.NA) is not pd.NA


class _SplitText:
    """Pickles as ``text.split(separator)``: a list of the strings."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __reduce__(self) -> tuple[Any, ...]:
        return (str.split, (self.text, _SEPARATOR))


def _joined(values: np.ndarray) -> _SplitText | None:
    """A 1-d object array of mostly distinct str as one text, else None."""
    if len(values) < _JOINED_MIN_ROWS:
        return None
    # Mostly distinct (judged on a sample) and all exact str.
    if len(set(values[:_JOINED_MIN_ROWS].tolist())) < 0.9 * _JOINED_MIN_ROWS:
        return None
    items = values.tolist()
    if set(map(type, items)) != {str}:
        return None
    text = _SEPARATOR.join(items)
    if text.count(_SEPARATOR) != len(items) - 1:  # a string holds the separator
        return None
    return _SplitText(text)


class PortablePickler(pickle.Pickler):
    """A pickler whose output loads under every supported pandas and numpy.

    Use it as :class:`pickle.Pickler`; objects this module knows nothing
    special about are pickled as pickle does.

    Examples
    --------
    >>> import io, pickle, numpy as np
    >>> from psweep.store._pickler import PortablePickler
    >>> buffer = io.BytesIO()
    >>> PortablePickler(buffer, protocol=5).dump({"a": np.arange(3), "b": np.float32(1.5)})
    >>> b"numpy._core" in buffer.getvalue(), pickle.loads(buffer.getvalue())["a"].tolist()
    (False, [0, 1, 2])
    """

    def __init__(self, file: IO[bytes], protocol: int | None = None, **kwds: Any) -> None:
        super().__init__(file, protocol, **kwds)
        self._protocol = pickle.DEFAULT_PROTOCOL if protocol is None else protocol
        if self._protocol < 0:
            self._protocol = pickle.HIGHEST_PROTOCOL

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        if cls is np.ndarray:
            return self._reduce_array(obj)
        if isinstance(obj, np.generic):
            return _reduce_scalar(obj)
        if isinstance(obj, (pd.Index, pd.Series, pd.DataFrame)):
            return _reduce_pandas(obj)
        if isinstance(obj, _NDArrayBacked):
            return _reduce_backed(obj)
        if isinstance(obj, pd.StringDtype) and not _is_nan_str(obj):
            return (pd.StringDtype, (obj.storage,))
        return NotImplemented

    def _reduce_array(self, arr: np.ndarray) -> Any:
        if arr.dtype.hasobject:
            if arr.dtype == object and arr.size >= _JOINED_MIN_ROWS:
                joined = _reduce_joined(arr)
                if joined is not None:
                    return joined
            # numpy's own state (shape, dtype, the objects), rebuilt by
            # the class numpy.ndarray instead of numpy._core's function.
            return (np.ndarray, ((0,), arr.dtype), arr.__reduce__()[2])
        if arr.size == 0:
            return (np.ndarray, (arr.shape, arr.dtype))
        if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
            arr = np.ascontiguousarray(arr)
        order = "C" if arr.flags.c_contiguous else "F"
        if self._protocol >= 5:
            # Written in place, no copy; as bytes, for dtypes (datetimes)
            # that offer no buffer of their own.
            buffer: Any = pickle.PickleBuffer(arr.ravel(order="A").view(np.uint8))
        else:
            buffer = bytearray(arr.tobytes(order="A"))
        return (np.ndarray, (arr.shape, arr.dtype, buffer, 0, None, order))


def _reduce_joined(arr: np.ndarray) -> Any:
    """An object array whose rows are columns of distinct strings, as texts; else None."""
    if arr.ndim == 1:
        joined = _joined(arr)
        return None if joined is None else (np.array, (joined, object))
    if arr.ndim != 2:
        return None
    rows = [_joined(row) for row in arr]
    if all(row is None for row in rows):
        return None
    # A block of columns: each row of distinct strings as a text, the
    # others as they are; stacked again on load.
    parts = [arr[i] if row is None else _JoinedRow(row) for i, row in enumerate(rows)]
    if len(parts) == 1:
        return (np.reshape, (parts[0], arr.shape))
    return (np.stack, (parts,))


class _JoinedRow:
    """Pickles as ``numpy.array(text.split(separator), object)``."""

    def __init__(self, joined: _SplitText) -> None:
        self.joined = joined

    def __reduce__(self) -> tuple[Any, ...]:
        return (np.array, (self.joined, object))


def _reduce_scalar(value: np.generic) -> Any:
    to_python = _SCALAR_VALUES.get(type(value))
    if to_python is not None:
        return (type(value), (to_python(value),))
    # A 0-d array of the value's dtype (see _reduce_array), indexed by ():
    # exact for every dtype, and no class name that moved between numpy 1
    # and 2 (numpy.bool_ is numpy.bool in numpy 2).
    return (operator.getitem, (np.asarray(value), ()))


def _reduce_pandas(obj: Any) -> Any:
    if isinstance(obj, pd.DataFrame):
        if not any(_is_nan_str(dtype) for dtype in obj.dtypes):
            return NotImplemented
        return object_strings(obj)[0].__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    if isinstance(obj, pd.Series):
        if not _is_nan_str(obj.dtype):
            return NotImplemented
        return obj.astype(object).__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    if type(obj) is not pd.Index or not _is_nan_str(obj.dtype):
        return NotImplemented
    # An Index of str: its labels as a list, which each pandas turns into
    # its own default (str from pandas 3 on, object before).
    values = obj.to_numpy(dtype=object, na_value=np.nan)
    if len(values) == 0 or obj.isna().all():
        return (pd.Index, (values, object, False, obj.name))
    labels = _joined(values)
    return (pd.Index, (values.tolist() if labels is None else labels, None, False, obj.name))


def _reduce_backed(obj: Any) -> Any:
    # pandas 3 pickles these arrays' state as (dtype, values); pandas 2
    # accepts only (values, dtype, attributes) in either order of the two.
    reduced = obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    if len(reduced) < 3 or not isinstance(reduced[2], tuple) or len(reduced[2]) != 2:
        return NotImplemented
    return (reduced[0], reduced[1], (*reduced[2], {}), *reduced[3:])


def object_strings(df: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    """`df` with its ``str`` columns as ``object`` (NaN where missing), and their positions.

    Parameters
    ----------
    df
        Any frame.

    Returns
    -------
    frame : pandas.DataFrame
        `df` itself if it has no ``str`` column.
    positions : list of int
        Positions of the columns converted.
    """
    positions = [i for i, dtype in enumerate(df.dtypes) if _is_nan_str(dtype)]
    if not positions:
        return df, positions
    out = df.copy(deep=False)
    for i in positions:  # by position: column names may repeat
        out.isetitem(i, out.iloc[:, i].astype(object))
    return out, positions
