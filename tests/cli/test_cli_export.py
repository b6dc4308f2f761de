"""``psweep export`` of values JSON lacks (issue 20, item 16), run as a real subprocess."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import psweep as ps

PSWEEP = os.path.join(os.path.dirname(sys.executable), "psweep")


def cli(*args: str) -> subprocess.CompletedProcess:
    command = [PSWEEP] if os.path.exists(PSWEEP) else [sys.executable, "-m", "psweep"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)


class Point:
    """A class of the user's own: JSON has no form for its instances."""

    def __init__(self, x):
        self.x = x


def results(pset):
    a = pset["a"]
    return {
        "raw": b"\xff\x00" * a,  # not UTF-8
        "text_bytes": b"abc",
        "z": complex(a, 1),
        "nested": {"k": [b"\x01", np.float32(0.5)], "s": {a}},
        "arr": np.arange(a),
        "seed": 2**60 + a if a % 2 else None,  # Int64 with a gap
        "big": 2**70,
    }


def test_export_json_of_bytes_and_other_values_json_lacks_writes_the_file():
    """psweep export -o x.json of a database with bytes (not UTF-8), complex, sets, arrays, functions
    and exact big ints writes the file: bytes as base64, ints exactly; no traceback."""
    ps.run(results, [{"a": 1, "f": np.sin}, {"a": 2, "f": len}])
    out = cli("export", "-o", "x.json")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    rows = json.load(open("x.json"))
    assert [base64.b64decode(r["raw"]) for r in rows] == [b"\xff\x00", b"\xff\x00" * 2]
    assert base64.b64decode(rows[0]["text_bytes"]) == b"abc"
    assert rows[1]["z"] == {"real": 2.0, "imag": 1.0}
    assert rows[0]["nested"] == {"k": [base64.b64encode(b"\x01").decode(), 0.5], "s": [1]}
    assert rows[1]["arr"] == [0, 1]
    assert [r["f"] for r in rows] == ["numpy.sin", "builtins.len"]
    assert rows[0]["seed"] == 2**60 + 1 and rows[1]["seed"] is None
    assert rows[0]["big"] == 2**70


def test_export_json_of_a_value_without_json_form_is_one_line_naming_the_column():
    """A value of the user's own class: exit 2, one line naming the column, the type and --to csv."""
    os.makedirs("calc")
    df = ps.run(lambda pset: {}, [{"a": 1}], save=False)
    df["where"] = [Point(1)]  # the CLI imports this module (tests/ is on its PYTHONPATH)
    ps.df_write("calc/results.pk", df)
    out = cli("export", "-o", "x.json")
    assert out.returncode == 2, out.stdout
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "'where'" in out.stderr and "--to csv" in out.stderr
    assert not os.path.exists("x.json")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_of_plain_databases_is_unchanged(fmt):
    """Databases of plain values export as before (json: the values as they are)."""
    ps.run(lambda pset: {"y": pset["a"] * 2, "s": "x"}, ps.plist("a", [1, 2]))
    out = cli("export", "--to", fmt, "-o", f"out.{fmt}")
    assert out.returncode == 0, out.stderr
    if fmt == "json":
        assert [(r["a"], r["y"], r["s"]) for r in json.load(open("out.json"))] == [(1, 2, "x"), (2, 4, "x")]


def test_db2json_of_bytes_prints_json_like_export():
    """0.16's psweep-db2json on a database with bytes prints JSON (bytes as base64), no traceback."""
    ps.run(results, [{"a": 1, "f": np.sin}])
    script = os.path.join(os.path.dirname(sys.executable), "psweep-db2json")
    fallback = [sys.executable, "-c", "from psweep.cli import db2json_main; raise SystemExit(db2json_main())"]
    command = [script] if os.path.exists(script) else fallback
    out = subprocess.run([*command, "calc"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    assert base64.b64decode(row["raw"]) == b"\xff\x00" and row["f"] == "numpy.sin"
