"""Tests of psweep/dbfile.py's database pickling: plain pickles, fast for columns of distinct strings."""

from __future__ import annotations

import pickle
import subprocess
import sys
import uuid

import numpy as np
import pandas as pd
import pytest

from psweep.dbfile import read_database, write_database

N = 3000
STR = pd.StringDtype("python", na_value=np.nan)


def _frame(**extra):
    ids = [str(uuid.uuid4()) for _ in range(N)]
    columns = {
        "_pset_id": pd.array(ids, dtype=STR),
        "_run_id": pd.array(["one-run"] * N, dtype=STR),
        "x": np.arange(N),
        "objects": np.array([f"text {i}" for i in range(N)], dtype=object),
    }
    columns.update(extra)
    return pd.DataFrame(columns)


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"with_nan": pd.array([None if i % 7 == 0 else f"v{i}" for i in range(N)], dtype=STR)},
        {"with_separator": pd.array([f"a\0{i}" for i in range(N)], dtype=STR)},
        {"mixed": np.array([i if i % 2 else f"s{i}" for i in range(N)], dtype=object)},
        {"bytes": np.array([b"b%d" % i for i in range(N)], dtype=object)},
    ],
    ids=["plain", "NaN", "separator inside", "mixed types", "bytes"],
)
def test_database_file_loads_as_the_same_frame(tmp_path, extra):
    """write_database's file unpickles to an equal frame (values, dtypes), whatever the string columns hold."""
    df = _frame(**extra)
    path = str(tmp_path / "results.pk")
    write_database(path, df)
    with open(path, "rb") as fobj:
        back = pickle.load(fobj)
    pd.testing.assert_frame_equal(back, df)


def test_file_needs_only_pandas_to_load_and_shares_repeated_strings(tmp_path):
    """The file names no psweep code (pandas alone reads it) and a repeated string is one object after loading."""
    path = str(tmp_path / "results.pk")
    write_database(path, _frame())
    with open(path, "rb") as fobj:
        assert b"psweep" not in fobj.read()
    code = (
        "import pickle, sys; df = pickle.load(open(sys.argv[1], 'rb'));"
        "assert 'psweep' not in sys.modules; v = df['_run_id'].to_numpy();"
        "assert v[0] is v[-1]; print(len(df))"
    )
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(N)


def test_distinct_strings_are_written_as_one_text(tmp_path):
    """A column of distinct strings is pickled as one text, not string by string (the file is smaller)."""
    df = _frame()
    path = str(tmp_path / "results.pk")
    write_database(path, df)
    plain = pickle.dumps(df, protocol=pickle.HIGHEST_PROTOCOL)
    with open(path, "rb") as fobj:
        ours = fobj.read()
    assert "\0".join(df["_pset_id"].tolist()).encode() in ours
    assert len(ours) < len(plain)
    pd.testing.assert_frame_equal(read_database(path)[0], df)
