"""Tests of psweep/dbfile.py's database pickling: plain pickles, fast for columns of distinct strings."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import uuid

import numpy as np
import pandas as pd
import pytest

import psweep as ps
import workers
from psweep.store import _dbfile as dbfile
from psweep.store._dbfile import read_database, write_database

N = 3000


def _string_dtypes():
    """The string dtypes of the running pandas: object always, "string", and "str" from pandas 2.3 on."""
    dtypes = {"object": object, "string": pd.StringDtype("python")}
    try:
        dtypes["str"] = pd.StringDtype("python", na_value=np.nan)
    except TypeError:  # pandas < 2.3 has no na_value
        pass
    return dtypes


STRING_DTYPES = _string_dtypes()


def _strings(values, dtype):
    # A Series keeps object dtype where pandas 3 would infer str from an object array.
    return pd.Series(values, dtype=object) if dtype is object else pd.array(values, dtype=dtype)


def _frame(dtype, **extra):
    ids = [str(uuid.uuid4()) for _ in range(N)]
    columns = {
        "_pset_id": _strings(ids, dtype),
        "_run_id": _strings(["one-run"] * N, dtype),
        "x": np.arange(N),
        "objects": np.array([f"text {i}" for i in range(N)], dtype=object),
    }
    columns.update({name: make(dtype) for name, make in extra.items()})
    return pd.DataFrame(columns)


EXTRA = {
    "plain": {},
    "NaN": {"with_nan": lambda t: _strings([None if i % 7 == 0 else f"v{i}" for i in range(N)], t)},
    "separator inside": {"with_separator": lambda t: _strings([f"a\0{i}" for i in range(N)], t)},
    "mixed types": {"mixed": lambda t: np.array([i if i % 2 else f"s{i}" for i in range(N)], dtype=object)},
    "bytes": {"bytes": lambda t: np.array([b"b%d" % i for i in range(N)], dtype=object)},
}


@pytest.mark.parametrize("string_dtype", STRING_DTYPES)
@pytest.mark.parametrize("extra", EXTRA)
def test_database_file_loads_as_the_same_frame(tmp_path, extra, string_dtype):
    """read_database gives back the frame written (values, dtypes), whatever the string columns hold;
    plain pickle the same values, pandas' str columns as object."""
    df = _frame(STRING_DTYPES[string_dtype], **EXTRA[extra])
    path = str(tmp_path / "results.pk")
    write_database(path, df)
    dbfile._DB_CACHE.clear()
    pd.testing.assert_frame_equal(read_database(path)[0], df)
    with open(path, "rb") as fobj:
        back = pickle.load(fobj)
    pd.testing.assert_frame_equal(back, df, check_dtype=False, check_column_type=False)
    for name in df.columns:
        written = df[name].dtype
        expected = object if isinstance(written, pd.StringDtype) and written.na_value is not pd.NA else written
        assert back[name].dtype == expected, name


def test_file_needs_only_pandas_to_load_and_shares_repeated_strings(tmp_path):
    """The file names no psweep code (pandas alone reads it) and a repeated string is one object after loading."""
    path = str(tmp_path / "results.pk")
    write_database(path, _frame(STRING_DTYPES.get("str", object)))
    modules = set()

    class Recording(pickle.Unpickler):
        def find_class(self, module, name):
            modules.add(module)
            return super().find_class(module, name)

    with open(path, "rb") as fobj:
        Recording(fobj).load()
    assert modules and not any(module.split(".")[0] == "psweep" for module in modules), modules
    code = (
        "import pickle, sys; df = pickle.load(open(sys.argv[1], 'rb'));"
        "assert 'psweep' not in sys.modules; v = df['_run_id'].to_numpy();"
        "assert v[0] is v[-1]; print(len(df))"
    )
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(N)


@pytest.mark.parametrize("string_dtype", STRING_DTYPES)
def test_distinct_strings_are_written_as_one_text(tmp_path, string_dtype):
    """A column of distinct strings is pickled as one text, not string by string (the file is smaller)."""
    df = _frame(STRING_DTYPES[string_dtype])
    path = str(tmp_path / "results.pk")
    write_database(path, df)
    plain = pickle.dumps(df, protocol=pickle.HIGHEST_PROTOCOL)
    with open(path, "rb") as fobj:
        ours = fobj.read()
    assert "\0".join(df["_pset_id"].tolist()).encode() in ours
    assert len(ours) < len(plain)
    dbfile._DB_CACHE.clear()
    pd.testing.assert_frame_equal(read_database(path)[0], df)


# -- item 14 of issue 20: a damaged database is called damaged ----------------------


def test_damaged_database_says_damaged_and_how_to_restore_it():
    """A calc dir's results.pk that is no pickle is called damaged, with the backup folders and moving it
    aside as fixes, not 'pass a database file'; the file is left as it was."""
    ps.run(workers.square, ps.plist("x", [1]))
    for garbage in (b"garbage, not a pickle", b"", b"\x00" * 100):
        with open("calc/results.pk", "wb") as fd:
            fd.write(garbage)
        for target in ("calc", "calc/results.pk"):
            with pytest.raises(ps.DatabaseError) as info:
                ps.df_read(target)
            message = str(info.value)
            assert "damaged" in message and "calc_<" in message and "move it" in message, message
            assert "Pass a psweep database file" not in message
        with pytest.raises(ps.DatabaseError, match="damaged"):
            ps.run(workers.square, ps.plist("x", [2]))
        with open("calc/results.pk", "rb") as fd:
            assert fd.read() == garbage
    # With backups (backup=True), the message names the newest to restore from.
    os.remove("calc/results.pk")
    ps.run(workers.square, ps.plist("x", [1]))
    ps.run(workers.square, ps.plist("x", [2]), backup=True)
    backup = [name for name in os.listdir(".") if name.startswith("calc_")]
    assert len(backup) == 1
    with open("calc/results.pk", "wb") as fd:
        fd.write(b"garbage")
    with pytest.raises(ps.DatabaseError, match=f"cp '.*{backup[0]}/results.pk' 'calc/results.pk'"):
        ps.df_read("calc")


def test_a_file_that_is_no_database_is_told_to_pass_one():
    """ps.df_read of a file psweep never wrote (notes.txt) says what it is and to pass a database or calc dir."""
    with open("notes.txt", "w") as fd:
        fd.write("some notes\n")
    with pytest.raises(ps.DatabaseError) as info:
        ps.df_read("notes.txt")
    message = str(info.value)
    assert "text file beginning 'some notes" in message and "Pass a psweep database file" in message
    assert "damaged" not in message
    assert sorted(os.listdir(".")) == ["notes.txt"]  # no notes.txt.lock beside it
    os.makedirs("calc/.psweep")
    with open("calc/notes.pk", "w") as fd:
        fd.write("x")
    with pytest.raises(ps.DatabaseError, match="Pass a psweep database file"):
        ps.df_read("calc/notes.pk")


def test_read_past_the_cache_neither_fills_nor_replaces_it(tmp_path):
    """read_database(cache=False) reads the file as it is now and leaves the cache as it found it:
    empty stays empty, the entry of an older file stays that entry."""
    path, other = str(tmp_path / "results.pk"), str(tmp_path / "other.pk")
    write_database(other, _frame(object).iloc[:5])
    write_database(path, _frame(object))
    dbfile._DB_CACHE.clear()
    df, sig = read_database(path, cache=False)
    assert len(df) == N and sig == dbfile.signature(path) and dbfile._DB_CACHE == {}
    read_database(path)  # the default read keeps the frame
    entry = dbfile._DB_CACHE[os.path.abspath(path)]
    os.replace(other, path)  # as another process's write does: the cached frame is stale
    df, sig = read_database(path, cache=False)
    assert len(df) == 5 and sig == dbfile.signature(path)
    assert list(dbfile._DB_CACHE) == [os.path.abspath(path)] and dbfile._DB_CACHE[os.path.abspath(path)] is entry
