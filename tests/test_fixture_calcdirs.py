"""Calc dirs an earlier psweep wrote (``tests/fixtures/``) are read and extended as they were.

``calc_v017/`` was written by psweep 0.17.0.dev0 before its modules moved
into subpackages: a database, a killed run's journal, counters and run
records (see ``tests/fixtures/make_calcdirs.py``); ``calc_016/`` by psweep
0.16.0. Drivers of different psweep versions share calc dirs, so stored
files must never name psweep's own modules (they move).
"""

from __future__ import annotations

import datetime
import io
import json
import os
import pickle
import shutil
import signal
import struct
import subprocess
import sys

import numpy as np
import pandas as pd

import psweep as ps

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def _copy(name: str) -> str:
    shutil.copytree(os.path.join(FIXTURES, name, "calc"), "calc")
    return "calc"


def canonical(df: pd.DataFrame) -> dict:
    """`df` as plain JSON values, the same under every supported pandas: index
    times as ISO text, missing values None, numpy scalars Python ones."""

    def value(v):
        if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)):
            return None
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, (pd.Timestamp, datetime.datetime)):
            return pd.Timestamp(v).isoformat()
        return v if isinstance(v, (bool, int, float, str)) else repr(v)

    return {
        "columns": [str(c) for c in df.columns],
        "index": [pd.Timestamp(t).isoformat() for t in df.index],
        "rows": [[value(v) for v in row] for row in df.itertuples(index=False, name=None)],
    }


def _as_json(df: pd.DataFrame) -> dict:
    return canonical(df)


def square(pset):
    """The fixture study's function, as its script had it."""
    if pset["x"] == 3:
        raise ValueError("x=3 fails on purpose")
    return {"y": pset["x"] ** 2, "label": f"x{pset['x']}"}


def test_database_and_killed_runs_journal_read_as_that_psweep_read_them():
    """The database plus the killed run's journal give the frame the writing psweep gave, value for value."""
    _copy("calc_v017")
    with open(os.path.join(FIXTURES, "calc_v017", "expected.json")) as fd:
        expected = json.load(fd)
    df = ps.df_read("calc")  # folds the dead run's journal
    assert _as_json(df) == expected
    assert not os.listdir("calc/.psweep/journal/results.pk")  # folded: the journal is gone
    assert _as_json(ps.df_read("calc")) == expected  # and the fold changed no value


def test_earlier_study_is_extended_with_skip_dups_and_numbering_continues():
    """skip_dups runs only what the earlier psweep did not finish (the failed pset, the one the kill
    prevented); old rows stay as they were and the counters go on."""
    _copy("calc_v017")
    before = ps.df_read("calc")
    params = ps.plist("x", [1, 2, 3, 4, 5, 10, 11, 12, 14]) + [{"x": 6, "seed": 2**60 + 1}]
    df = ps.run(square, params, skip_dups=True)
    new = df[~df["_pset_id"].isin(before["_pset_id"])]
    assert sorted(new["x"]) == [3, 14]
    assert new["_run_seq"].nunique() == 1 and new["_run_seq"].iloc[0] > before["_run_seq"].max()
    assert new["_pset_seq"].min() > before["_pset_seq"].max()
    old = df[df["_pset_id"].isin(before["_pset_id"])]
    assert _as_json(old) == _as_json(before)
    assert df.loc[df["x"] == 6, "seed"].iloc[0] == 2**60 + 1


def test_run_records_of_the_earlier_psweep_tell_each_runs_state():
    """ps.runs reads the earlier run records: two finished runs and the killed one."""
    _copy("calc_v017")
    status = ps.runs("calc")
    assert sorted(status["state"]) == ["finished", "finished", "killed"]
    killed = status[status["state"] == "killed"].iloc[0]
    assert killed["planned"] == 5 and killed["done"] == 3


def test_016_database_is_read_and_continued():
    """psweep 0.16.0's own database.pk: read in our format, continued in place with skip_dups."""
    _copy("calc_016")
    old = ps.df_read("calc")
    assert sorted(old["x"]) == [1, 2, 3, 4, 5]
    df = ps.run(lambda pset: {"y_": pset["x"] * 2}, ps.plist("x", [1, 2, 3, 4, 5, 6]), skip_dups=True)
    # 0.16 ran x=5 with n=7: {"x": 5} is another pset and runs, as x=6 does.
    assert sorted(df["x"]) == [1, 2, 3, 4, 5, 5, 6]
    assert df.loc[df["x"] == 5, "n"].isna().sum() == 1
    assert os.listdir("calc").count("database.pk") == 1 and "results.pk" not in os.listdir("calc")


# -- stored files name no psweep module ----------------------------------------------------------


def _names(payload: bytes) -> set[tuple[str, str]]:
    """The (module, name) pairs a pickle makes the unpickler look up."""
    names = set()

    class Recording(pickle.Unpickler):
        def find_class(self, module, name):
            names.add((module, name))
            return super().find_class(module, name)

    Recording(io.BytesIO(payload)).load()
    return names


def _journal_records(path: str) -> list[tuple[bytes, bytes]]:
    """(magic, payload) of the records of a journal file: magic, length, crc32 and a
    pickle, up to the zeros of the space a (killed) run reserved but did not fill. Magics:
    PSJ1 (a row dict), PK + 2 bytes (a layout's keys), PV + 2 bytes (a row's values)."""
    header = struct.Struct("<4sII")
    with open(path, "rb") as fd:
        data = fd.read()
    payloads, pos = [], 0
    while pos + header.size <= len(data):
        magic, length, _crc = header.unpack_from(data, pos)
        if magic != b"PSJ1" and magic[:2] not in (b"PK", b"PV"):
            assert not data[pos:].strip(b"\0"), f"neither a record nor the zero tail at {pos}"
            break
        payloads.append((magic, data[pos + header.size : pos + header.size + length]))
        pos += header.size + length
    return payloads


KILLED_STUDY = r"""
import os, signal
import psweep as ps
import numpy as np

def study(pset):
    if pset["x"] == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return {"y": np.float64(pset["x"]), "v": np.arange(2), "t": ps.get_uuid()}

ps.run(study, ps.plist("x", [0, 1, 2]), calc_dir="calc")
"""


def test_stored_files_name_no_psweep_module(tmp_path):
    """Database, journal records and pset.pk name no psweep module: a driver of another psweep
    version (whose modules live elsewhere) reads them, and so does pandas alone."""
    proc = subprocess.run([sys.executable, "-c", KILLED_STUDY], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    (journal,) = [
        os.path.join(folder, name)
        for folder, _, names in os.walk("calc/.psweep/journal")
        for name in names
        if name.endswith(".jnl2")
    ]
    records = _journal_records(journal)
    assert [magic[:2] for magic, _ in records] == [b"PK", b"PV", b"PV"]  # keys, then 2 rows' values
    payloads = [payload for _, payload in records]
    ps.run(lambda pset: {"y": pset["x"]}, ps.plist("x", [5]), calc_dir="calc")
    with open("calc/results.pk", "rb") as fd:
        payloads.append(fd.read())
    for name in ("calc_v017/calc/results.pk",):
        with open(os.path.join(FIXTURES, name), "rb") as fd:
            payloads.append(fd.read())
    payloads += [payload for _, payload in _journal_records(
        os.path.join(FIXTURES, "calc_v017/calc/.psweep/journal/results.pk", os.listdir(
            os.path.join(FIXTURES, "calc_v017/calc/.psweep/journal/results.pk"))[0])
    )]
    for payload in payloads:
        named = {module for module, _ in _names(payload)}
        assert not {m for m in named if m.split(".")[0] == "psweep"}, named
