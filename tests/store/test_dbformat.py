"""Tests of psweep/store/_dbformat.py and _pickler.py: database files and journals every pandas and numpy read.

Issue 20, item 4. Reading across versions needs a second interpreter: set
``PSWEEP_PEER_PYTHON`` to the python of another venv with psweep installed
(pandas 2.2 with numpy 1.26 against pandas 3 with numpy 2, either way);
those tests are skipped without it. The rest runs in this interpreter.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import crossversion
import psweep as ps
import workers
from psweep.store import _dbformat as dbformat
from psweep.store import _dbfile as dbfile
from psweep.store._dbfile import read_database, write_database
from psweep.store._journal import Journal
from psweep.store._pickler import PortablePickler

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CROSSVERSION = os.path.join(TESTS_DIR, "crossversion.py")
PEER = os.environ.get("PSWEEP_PEER_PYTHON")
needs_peer = pytest.mark.skipif(
    not PEER,
    reason="PSWEEP_PEER_PYTHON is unset: set it to the python of another venv with psweep "
    "installed (e.g. pandas 2.2 + numpy 1.26 when this one has pandas 3 + numpy 2) to test "
    "reading databases and journals across versions",
)

# What pickles of databases and journal rows may name: the functions and
# classes that exist under pandas 2.2.0 with numpy 1.26 and under pandas 3
# with numpy 2 alike (pandas 3 names its public classes by their public
# module, pandas 2 by the private one; both have both).
PORTABLE = {
    ("_operator", "getitem"), ("builtins", "slice"), ("builtins", "str.split"),
    ("datetime", "timedelta"), ("datetime", "timezone"), ("datetime", "datetime"),
    ("numpy", "dtype"), ("numpy", "ndarray"), ("numpy", "array"), ("numpy", "reshape"), ("numpy", "stack"),
    ("numpy", "float32"), ("numpy", "float64"), ("numpy", "int32"), ("numpy", "int64"),
    ("pandas", "DataFrame"), ("pandas", "Index"), ("pandas", "DatetimeIndex"), ("pandas", "NA"),
    ("pandas", "Categorical"), ("pandas", "CategoricalDtype"), ("pandas", "DatetimeTZDtype"),
    ("pandas", "PeriodDtype"), ("pandas", "StringDtype"), ("pandas", "Int64Dtype"),
    ("pandas", "Float64Dtype"), ("pandas", "BooleanDtype"),
    ("pandas.arrays", "BooleanArray"), ("pandas.arrays", "DatetimeArray"),
    ("pandas.arrays", "FloatingArray"), ("pandas.arrays", "IntegerArray"), ("pandas.arrays", "PeriodArray"),
    ("pandas.arrays", "StringArray"), ("pandas.arrays", "TimedeltaArray"),
    ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"), ("pandas._libs.internals", "_unpickle_block"),
    ("pandas._libs.missing", "NA"), ("pandas._libs.tslibs.timestamps", "_unpickle_timestamp"),
    ("pandas._libs.tslibs.timedeltas", "_timedelta_unpickle"),
    ("pandas.core.arrays.boolean", "BooleanArray"), ("pandas.core.arrays.boolean", "BooleanDtype"),
    ("pandas.core.arrays.categorical", "Categorical"), ("pandas.core.arrays.datetimes", "DatetimeArray"),
    ("pandas.core.arrays.floating", "Float64Dtype"), ("pandas.core.arrays.floating", "FloatingArray"),
    ("pandas.core.arrays.integer", "Int64Dtype"), ("pandas.core.arrays.integer", "IntegerArray"),
    ("pandas.core.arrays.period", "PeriodArray"), ("pandas.core.arrays.string_", "StringArray"),
    ("pandas.core.arrays.string_", "StringDtype"), ("pandas.core.arrays.timedeltas", "TimedeltaArray"),
    ("pandas.core.dtypes.dtypes", "CategoricalDtype"), ("pandas.core.dtypes.dtypes", "DatetimeTZDtype"),
    ("pandas.core.dtypes.dtypes", "PeriodDtype"), ("pandas.core.frame", "DataFrame"),
    ("pandas.core.indexes.base", "Index"), ("pandas.core.indexes.base", "_new_Index"),
    ("pandas.core.indexes.datetimes", "DatetimeIndex"), ("pandas.core.indexes.datetimes", "_new_DatetimeIndex"),
    ("pandas.core.internals.managers", "BlockManager"),
}


def _names(payload: bytes) -> set[tuple[str, str]]:
    """The (module, name) pairs a pickle makes the unpickler look up."""
    names = set()

    class Recording(pickle.Unpickler):
        def find_class(self, module, name):
            names.add((module, name))
            return super().find_class(module, name)

    Recording(io.BytesIO(payload)).load()
    return names


def _study_frame():
    """The cross-version study's database plus a frame of pandas' own dtypes, as files hold them."""
    crossversion.run_study("calc")
    return ps.df_read("calc"), crossversion.typed_frame()


def test_database_names_only_functions_and_classes_every_supported_version_has():
    """A database file names no numpy._core/numpy.core function and only pandas names that pandas 2.2
    and pandas 3 both have, for a study's columns and for pandas' extension dtypes."""
    study, typed = _study_frame()
    for df in (study, typed):
        write_database("db.pk", df)
        with open("db.pk", "rb") as fd:
            names = _names(fd.read())
        assert not {name for name in names if name[0].startswith(("numpy.core", "numpy._core"))}
        assert names <= PORTABLE, sorted(names - PORTABLE)


def test_journal_records_name_only_portable_functions_and_classes():
    """Journal records (rows a killed run leaves for others to fold) pickle numpy scalars, arrays
    and pandas values through names every supported numpy and pandas have."""
    rows = list(crossversion.run_study("calc", save=False).reset_index(drop=True).to_dict("records"))
    journal = Journal(os.path.join("calc", "journal.jnl"))
    try:
        for row in rows:
            journal.append({**row, "np_bool": np.bool_(True), "np_str": np.str_("s"), "uint": np.uint16(7)})
    finally:
        journal.close(remove=False)
    with open("calc/journal.jnl", "rb") as fd:
        data = fd.read()
    names = set()
    pos = 0
    while pos < len(data):
        _, length, _ = struct.unpack_from("<4sII", data, pos)
        names |= _names(data[pos + 12 : pos + 12 + length])
        pos += 12 + length
    assert names and names <= PORTABLE, sorted(names - PORTABLE)


def test_numpy_scalars_and_arrays_come_back_exactly():
    """numpy scalars of every kind and arrays of any layout unpickle as the same type, dtype and value."""
    values = [
        np.float64(0.1), np.float32(1 / 3), np.float16(2.5), np.int8(-3), np.uint64(2**64 - 1), np.int64(2**62),
        np.bool_(False), np.complex64(1 + 2j), np.longdouble(1) / 3, np.str_("ä"), np.bytes_(b"\x00x"),
        np.datetime64("2020-01-01T00:00:00.123456789"), np.timedelta64(5, "us"),
        np.arange(12.0).reshape(3, 4), np.asfortranarray(np.arange(12).reshape(3, 4)), np.arange(10)[::3],
        np.array([], dtype="M8[us]"), np.array(["a", None, 1.5], dtype=object), np.zeros((2, 0)),
        np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]), np.array(5),
    ]
    buffer = io.BytesIO()
    PortablePickler(buffer, protocol=5).dump(values)
    back = pickle.loads(buffer.getvalue())
    for value, got in zip(values, back):
        assert type(got) is type(value) and got.dtype == value.dtype, (value, got)
        if isinstance(value, np.ndarray):
            assert got.shape == value.shape and got.tobytes() == value.tobytes() or value.dtype == object
            assert got.flags.writeable
        else:
            assert got == value  # (longdouble's padding bytes may differ)


def test_str_columns_are_object_in_the_file_and_come_back_as_written():
    """Columns of pandas' str dtype are object arrays in the file (pandas 2.2 lacks str), listed in the
    header, and read_database gives them back as str where this pandas has it."""
    df = pd.DataFrame({"s": ["a", None, "c"], "n": [1, 2, 3]})
    df["o"] = pd.Series(["x", "y", "z"], dtype=object)
    write_database("db.pk", df)
    with open("db.pk", "rb") as fd:
        header = dbformat.read_header(fd)
        plain = pickle.load(fd)
    str_columns = [i for i, dtype in enumerate(df.dtypes) if isinstance(dtype, pd.StringDtype)]
    assert header["str_columns"] == str_columns
    assert header["pandas"] == pd.__version__ and header["numpy"] == np.__version__
    assert all(dtype in (object, np.int64) for dtype in plain.dtypes)
    dbfile._DB_CACHE.clear()
    pd.testing.assert_frame_equal(read_database("db.pk")[0], df)


def _future_file(path, loads: bool):
    """A database file whose header says a future pandas and numpy wrote it; unless `loads`,
    it names a class this pandas lacks (as a newer pandas's file may)."""
    header = json.dumps({"format": dbformat.FORMAT, "pandas": "99.1.0", "numpy": "98.0.0", "str_columns": []})
    if loads:
        body = pickle.dumps(pd.DataFrame({"a": [1]}), protocol=5)
    else:
        body = b"\x80\x04cpandas.core.arrays.future\nFutureArray\n)R."
    with open(path, "wb") as fd:
        fd.write(b"\x80\x05X" + struct.pack("<I", len(header)) + header.encode() + b"0" + body)


def test_file_of_a_newer_pandas_names_its_versions_and_the_fix():
    """A database that a newer pandas/numpy wrote and this one cannot rebuild: the error names the
    writer's versions and the upgrade, never 'damaged'; the file is left as it was."""
    os.makedirs("calc")
    _future_file("calc/results.pk", loads=False)
    before = open("calc/results.pk", "rb").read()
    with pytest.raises(ps.DatabaseVersionError) as info:
        ps.df_read("calc")
    message = str(info.value)
    assert "pandas 99.1.0 with numpy 98.0.0" in message and f"pandas {pd.__version__}" in message
    assert "pip install 'pandas>=99.1.0' 'numpy>=98.0.0'" in message
    assert "damaged" not in message and "intact" in message
    assert isinstance(info.value, ps.DatabaseError)
    assert open("calc/results.pk", "rb").read() == before


def test_file_of_a_newer_pandas_that_loads_is_read():
    """A header naming other versions is no error when the file loads."""
    os.makedirs("calc")
    _future_file("calc/results.pk", loads=True)
    assert ps.df_read("calc/results.pk")["a"].tolist() == [1]


def test_run_finds_an_unreadable_database_before_any_pset_runs():
    """ps.run on a database this pandas cannot read raises before any pset runs (no marker files),
    and leaves the database and the calc dir's rows as they were."""
    ps.run(workers.square, ps.plist("x", [0]))  # a calc dir with its counters, as runs leave it
    _future_file("calc/results.pk", loads=False)
    before = open("calc/results.pk", "rb").read()
    with pytest.raises(ps.DatabaseVersionError, match="pandas 99.1.0"):
        ps.run(workers.mark_done, ps.plist("x", [1, 2]))
    assert not os.path.exists("marks")
    assert open("calc/results.pk", "rb").read() == before
    with pytest.raises(ps.DatabaseError, match="damaged"):
        with open("calc/results.pk", "wb") as fd:
            fd.write(b"\x80\x05garbage")
        ps.run(workers.mark_done, ps.plist("x", [1, 2]))
    assert not os.path.exists("marks")


def test_run_reads_the_database_up_front_only_when_other_versions_wrote_it(monkeypatch):
    """The check before a run reads only the header and last byte when our pandas and numpy wrote the
    file; it reads the file when other versions wrote it, or when it is cut off."""
    ps.run(workers.square, ps.plist("x", [1]))
    reads = []
    real = dbfile._read_pickle
    monkeypatch.setattr(dbfile, "_read_pickle", lambda path: reads.append(path) or real(path))
    dbfile._DB_CACHE.clear()
    dbfile.check_readable("calc/results.pk")
    assert reads == []
    data = open("calc/results.pk", "rb").read()
    with open("calc/results.pk", "wb") as fd:  # as if another pandas had written it
        fd.write(data.replace(pd.__version__.encode(), b"0" * len(pd.__version__), 1))
    dbfile.check_readable("calc/results.pk")
    assert reads == ["calc/results.pk"]
    with open("calc/results.pk", "wb") as fd:  # ours, but cut off: read, and found damaged
        fd.write(data[: len(data) // 2])
    with pytest.raises(ps.DatabaseError, match="damaged"):
        dbfile.check_readable("calc/results.pk")
    assert reads == ["calc/results.pk"] * 2


def test_header_less_file_needing_a_missing_numpy_function_says_versions():
    """A file without header (older psweep, plain pandas) naming a numpy/pandas function this process
    lacks is said to come from another version, not to be damaged; a missing package is named, also
    one that a class imports when it is built (a column backed by pyarrow)."""
    os.makedirs("calc")
    with open("calc/results.pk", "wb") as fd:
        fd.write(b"\x80\x04cnumpy._core.future_module\n_frombuffer\n)R.")
    with pytest.raises(ps.DatabaseVersionError) as info:
        ps.df_read("calc")
    assert "numpy._core.future_module._frombuffer" in str(info.value) and "damaged" not in str(info.value)
    with open("calc/results.pk", "wb") as fd:
        fd.write(b"\x80\x04cno_such_package_xyz.arrays\nArray\n)R.")
    with pytest.raises(ps.DatabaseVersionError, match="needs the package 'no_such_package_xyz'"):
        ps.df_read("calc")
    with open("calc/results.pk", "wb") as fd:  # a class that imports a missing package when built
        fd.write(b"\x80\x04cbuiltins\n__import__\nX\x0f\x00\x00\x00no_such_pkg_abc\x85R.")
    with pytest.raises(ps.DatabaseVersionError, match="needs a package this process lacks.*no_such_pkg_abc"):
        ps.df_read("calc")
    # A whole pickle whose objects this pandas cannot build (as pandas 2.2.3 with numpy 2 fails on
    # pandas 3's StringDtype): another version's, not damaged; with our versions' header, not either.
    unbuildable = b"\x80\x04cbuiltins\nint\nX\x03\x00\x00\x00abc\x85R."
    with open("calc/results.pk", "wb") as fd:
        fd.write(unbuildable)
    with pytest.raises(ps.DatabaseVersionError, match="whole pickle.*another pandas or numpy wrote it") as info:
        ps.df_read("calc")
    assert "damaged" not in str(info.value)
    with open("calc/results.pk", "wb") as fd:
        fd.write(dbformat._header([]) + unbuildable)
    with pytest.raises(ps.DatabaseError, match="whole pickle written under this process's") as info:
        ps.df_read("calc")
    assert "damaged" not in str(info.value) and not isinstance(info.value, ps.DatabaseVersionError)


# -- across interpreters: PSWEEP_PEER_PYTHON ------------------------------------------


def _python(python, *args, returncode=0):
    out = subprocess.run(
        [python, CROSSVERSION, *args], capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": TESTS_DIR},
    )
    assert out.returncode == returncode, f"{python} {args}:\n{out.stdout}\n{out.stderr}"
    return out


@needs_peer
@pytest.mark.parametrize("writer, reader", [("peer", "here"), ("here", "peer")])
def test_database_of_one_version_reads_in_the_other(writer, reader):
    """A study's database and a frame of pandas' own dtypes, written under one pandas/numpy, read
    under the other through ps.df_read (the writer's dtypes; str as object where the reader lacks
    it) and through plain pd.read_pickle (the same values)."""
    writer, reader = (PEER if w == "peer" else sys.executable for w in (writer, reader))
    _python(writer, "study", "calc")
    _python(writer, "typed", "typed.pk")
    assert "read 12 rows" in _python(reader, "check-study", "calc").stdout
    assert "read 4 rows" in _python(reader, "check-typed", "typed.pk").stdout


@needs_peer
@pytest.mark.parametrize("writer, reader", [("peer", "here"), ("here", "peer")])
def test_journal_of_a_killed_run_folds_under_the_other_version(writer, reader):
    """A run SIGKILLed under one version leaves its journal; the other version folds its rows."""
    writer, reader = (PEER if w == "peer" else sys.executable for w in (writer, reader))
    _python(writer, "killed", "calc", returncode=-9)
    assert "read 5 rows" in _python(reader, "check-killed", "calc").stdout


@needs_peer
@pytest.mark.parametrize("first, second", [("peer", "here"), ("here", "peer")])
def test_study_extended_under_the_other_version_reads_under_the_first(first, second):
    """A database extended (skip_dups) under the other version reads back under the first."""
    first, second = (PEER if w == "peer" else sys.executable for w in (first, second))
    _python(first, "study", "calc")
    _python(second, "extend", "calc")
    assert "read 24 rows" in _python(first, "check-extended", "calc").stdout


@needs_peer
@pytest.mark.parametrize("writer, reader", [("peer", "here"), ("here", "peer")])
def test_plain_pickle_of_the_other_version_reads_or_names_the_fix(writer, reader):
    """A database pickled by plain pandas (or an older psweep) under one version: the other reads it,
    or (numpy 2's file under numpy 1) raises DatabaseVersionError saying to rewrite it once with this
    psweep where it was written; never 'damaged'."""
    writer, reader = (PEER if w == "peer" else sys.executable for w in (writer, reader))
    _python(writer, "plain", "calc")
    assert _python(reader, "check-plain", "calc").stdout.strip() in ("read", "version error")
