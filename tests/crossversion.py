"""A study and a frame whose files must read alike under every supported pandas and numpy.

tests/test_dbformat.py runs these in this interpreter and in a peer one
(``PSWEEP_PEER_PYTHON``, another venv: pandas 2.2 with numpy 1.26 against
pandas 3 with numpy 2) and compares what each reads with what it makes
itself.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import numpy as np
import pandas as pd

import psweep as ps

# Values of every kind a study returns: what numpy 2 and pandas 3 pickle
# through names numpy 1 and pandas 2.2 lack (numpy scalars, arrays, strings,
# datetimes), ints beyond 2**53 with gaps, bytes, nested containers.
SEED = 2**60 + 7


def study(pset):
    """Results of many types; every third pset lacks `seed_` and `label`."""
    a = pset["a"]
    row = {
        "y_": a * 0.5,
        "n_": a * 10,
        "f32_": np.float32(a / 3),
        "i8_": np.int8(a),
        "flag_": np.bool_(a % 2),
        "arr_": np.arange(3) * a,
        "text_": f"text {a}",
        "maybe_": None if a % 2 else f"odd {a}",
        "mixed_": [np.float32(1.5), "s", 3, np.datetime64("2020-01-01T00:00:00")][a % 4],
        "when_": pd.Timestamp("2020-01-01") + pd.Timedelta(seconds=a),
        "span_": pd.Timedelta(seconds=a),
        "raw_": b"\x00\xff" * a,
        "nested_": {"k": np.float64(a), "l": [np.int64(a)]},
    }
    if a % 3:
        row["seed_"] = SEED + a
        row["label_"] = f"L{a}"
    return row


def params(n=12, offset=0):
    return [{"a": offset + i, "s": f"p{offset + i}"} for i in range(n)]


def run_study(calc_dir, n=12, offset=0, **kwds):
    return ps.run(study, params(n, offset), calc_dir=calc_dir, **kwds)


def die_during_study(pset):
    """The study, but the driver dies (SIGKILL) at the pset a == 5, leaving its journal."""
    if pset["a"] == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return study(pset)


def typed_frame():
    """A frame of pandas' own dtypes, as a user's df_write would store it."""
    n = 4
    columns = {
        "float": np.arange(n, dtype=float),
        "int": np.arange(n),
        "bool": [True, False, True, False],
        "Int64": pd.array([1, None, 3, SEED], dtype="Int64"),
        "boolean": pd.array([True, None, False, True], dtype="boolean"),
        "Float64": pd.array([1.5, None, 3, 4], dtype="Float64"),
        "string": pd.array(["a", None, "c", "d"], dtype=pd.StringDtype("python")),
        "strings": ["a", None, "c", "d"],
        "category": pd.Categorical(["a", "b", "a", None]),
        "datetime_ns": np.array([0, 1, 2, 3], dtype="datetime64[ns]"),
        "datetime_us": np.array([0, 1, 2, 3], dtype="datetime64[us]"),
        "datetime_utc": pd.date_range("2020-01-01", periods=n, tz="UTC", unit="ns"),
        "timedelta": pd.to_timedelta(np.arange(n), unit="s"),
        "period": pd.period_range("2020-01-01", periods=n, freq="D"),
        "objects": np.array([np.float32(1), np.int16(2), np.bool_(True), b"x"], dtype=object),
    }
    index = pd.DatetimeIndex(np.array([10, 11, 12, 13], dtype="datetime64[ns]"))
    return pd.DataFrame(columns, index=index)


# Bookkeeping that differs between two runs of the same study.
_VARYING = ["_run_id", "_pset_id", "_calc_dir", "_time_utc", "_exec_host", "_pset_runtime"]


def normalized(df):
    """`df` for comparing across pandas versions: no run-specific columns, positions as index,
    datetimes in ns (pandas 3 picks other units for the same values), pandas' str as object,
    also as labels and categories (pandas 2.2 has no str; a file of pandas 2 holds object
    strings, which pandas 3 reads as such)."""
    out = df.drop(columns=[c for c in _VARYING if c in df.columns]).reset_index(drop=True)
    out.columns = pd.Index(list(out.columns), dtype=object)
    for name, dtype in out.dtypes.items():
        if dtype.kind in "mM" and not isinstance(dtype, pd.PeriodDtype):
            out[name] = out[name].astype(_ns(dtype))
        elif isinstance(dtype, pd.StringDtype) and dtype.na_value is not pd.NA:
            out[name] = out[name].astype(object)
        elif isinstance(dtype, pd.CategoricalDtype):
            categories = pd.Index(dtype.categories.tolist(), dtype=object)
            out[name] = out[name].astype(pd.CategoricalDtype(categories, dtype.ordered))
    return out


def _ns(dtype):
    tz = getattr(dtype, "tz", None)
    if tz is not None:
        return pd.DatetimeTZDtype("ns", tz)
    return np.dtype("m8[ns]") if dtype.kind == "m" else np.dtype("M8[ns]")


def assert_reads_as_own(theirs, own, written=None):
    """The frame read from a file written elsewhere holds the values of the one made here,
    and the dtypes the writer had (`written`: name -> str(dtype)), str as object where
    this pandas lacks str."""
    pd.testing.assert_frame_equal(normalized(theirs), normalized(own), check_exact=True, check_dtype=False)
    if written is None:
        return
    has_str = _has_nan_str()
    assert list(written) == [str(c) for c in theirs.columns]
    for name, dtype in zip(written, theirs.dtypes):
        expected = written[name]
        if expected == "str" and not has_str:
            expected = "object"
        assert str(dtype) == expected, (name, str(dtype), expected)


def _has_nan_str():
    try:
        pd.StringDtype(na_value=np.nan)
    except TypeError:
        return False
    return True


def _dtypes_file(target):
    return os.path.join(os.path.dirname(os.path.abspath(target)), os.path.basename(target) + ".dtypes.json")


def _save_dtypes(target):
    """What the writer reads back: the dtypes the reader must see too."""
    with open(_dtypes_file(target), "w") as fd:
        json.dump({str(c): str(t) for c, t in ps.df_read(target).dtypes.items()}, fd)


def _written_dtypes(target):
    with open(_dtypes_file(target)) as fd:
        return json.load(fd)


def check(what, target):
    """Read what another interpreter wrote at `target` and compare it with this one's own making."""
    written = None
    if what in ("study", "extended", "typed"):
        written = _written_dtypes(target)
    if what == "study":
        plain = pd.read_pickle(os.path.join(target, "results.pk"))
        theirs = ps.df_read(target)
        own = run_study("own", save=False)
    elif what == "extended":
        plain = pd.read_pickle(os.path.join(target, "results.pk"))
        theirs = ps.df_read(target)
        run_study("own")
        own = run_study("own", offset=12)
    elif what == "killed":
        plain = None
        theirs = ps.df_read(target)
        own = run_study("own", n=5, save=False)
    elif what == "typed":
        plain = pd.read_pickle(target)
        theirs = ps.df_read(target)
        own = typed_frame()
        pd.testing.assert_index_equal(theirs.index, own.index)
    elif what == "plain":
        # A file of plain pandas (or an older psweep): read, or a version error with the fix.
        try:
            ps.df_read(target)
        except ps.DatabaseVersionError as exc:
            assert "rewrite it once with this psweep" in str(exc) and "damaged" not in str(exc), exc
            print("version error")
        else:
            print("read")
        return
    else:
        raise SystemExit(f"unknown: {what}")
    assert_reads_as_own(theirs, own, written)
    if plain is not None:
        # pd.read_pickle, no psweep: the same values (str columns as object).
        pd.testing.assert_frame_equal(normalized(plain), normalized(theirs), check_exact=True, check_dtype=False)
    print(f"read {len(theirs)} rows as made here")


def main():
    """``python crossversion.py <what> <target>``: make a database for a reader elsewhere,
    or (``check-<what>``) read one made elsewhere and compare it with this interpreter's own."""
    what, target = sys.argv[1], sys.argv[2]
    if what.startswith("check-"):
        check(what[len("check-"):], target)
        return
    if what == "study":
        run_study(target)
    elif what == "extend":
        run_study(target, offset=12, skip_dups=True)
    elif what == "killed":
        ps.run(die_during_study, params(), calc_dir=target)
    elif what == "typed":
        ps.df_write(target, typed_frame())
    elif what == "plain":
        os.makedirs(target)
        run_study("own", save=False).to_pickle(os.path.join(target, "results.pk"))
        return
    else:
        raise SystemExit(f"unknown: {what}")
    _save_dtypes(target)


if __name__ == "__main__":
    main()
