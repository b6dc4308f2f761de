"""One place decides which database a calc dir holds; every reader and writer asks it.

The 0.16 calc dirs here are built by :func:`helpers.make_016_calc_dir` the
way psweep 0.16's prep_batch leaves them (``database.pk`` only).
"""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import psweep as ps
import psweep.store._calcdir
import psweep.store._store
from helpers import make_016_calc_dir

TIMEOUT = 120
PSWEEP = os.path.join(os.path.dirname(sys.executable), "psweep")
PACKAGE = Path(psweep.__file__).parent


def cli(*args: str) -> subprocess.CompletedProcess:
    command = [PSWEEP] if os.path.exists(PSWEEP) else [sys.executable, "-m", "psweep"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=TIMEOUT)


def local_machine(root: Path) -> dict[str, str]:
    """Templates like the 0.16 calc dir's: input.txt and a local machine whose job writes out.txt."""
    (root / "calc").mkdir(parents=True)
    (root / "calc" / "input.txt").write_text("a = {{a}}")
    (root / "machines" / "local").mkdir(parents=True)
    (root / "machines" / "local" / "info.yaml").write_text("subcmd: sh\n")
    (root / "machines" / "local" / "jobscript").write_text("cat input.txt > out.txt\n")
    return {"calc_templ_dir": str(root / "calc"), "machine_templ_dir": str(root / "machines")}


def quiet(func, *args, **kwds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwds)


def submit_lines(path: str) -> tuple[list[str], list[str]]:
    """The (live, commented) submit lines of a run script."""
    live, commented = [], []
    for line in Path(path).read_text().splitlines():
        if "run_seq=" in line:
            (commented if line.startswith("#") else live).append(line)
    return live, commented


def test_prep_batch_continues_016_database_and_its_new_lines_run(tmp_path):
    """prep_batch in a 0.16 calc dir continues database.pk: old rows seen and skipped, numbering on, lines live."""
    old = make_016_calc_dir()
    kw = local_machine(tmp_path / "t")
    with pytest.warns(UserWarning, match="database.pk"):
        df = ps.prep_batch(ps.plist("a", [1, 2, 3, 4, 5]), skip_dups=True, **kw)
    assert not os.path.exists("calc/results.pk")
    assert df["a"].tolist() == [1, 2, 3, 4, 5]
    assert df["_pset_id"].tolist()[:3] == old["_pset_id"].tolist()
    assert df["_run_seq"].tolist() == [0, 0, 1, 2, 2]
    assert df["_pset_seq"].tolist() == [0, 1, 2, 3, 4]
    new_ids = df["_pset_id"].tolist()[3:]
    for reader in (ps.df_read("calc"), ps.df_read("calc/database.pk")):
        assert reader["_pset_id"].tolist() == df["_pset_id"].tolist()
    assert [len(ps.runs("calc")), ps.runs("calc")["done"].sum()] == [3, 5]
    shown = cli("show", "calc")
    assert shown.returncode == 0, shown.stderr
    assert [line.split() for line in shown.stdout.splitlines()] == [["a"], ["1"], ["2"], ["3"], ["4"], ["5"]]
    live, commented = submit_lines("calc/run_local.sh")
    assert len(live) == 2 and all("run_seq=2" in line for line in live)
    assert len(commented) == 3
    proc = subprocess.run(["sh", "calc/run_local.sh"], capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    done = sorted(p.parent.name for p in Path("calc").glob("*/out.txt"))
    assert done == sorted(new_ids)
    assert Path("calc", new_ids[0], "out.txt").read_text() == "a = 4"


def test_prep_batch_without_skip_dups_numbers_after_016_runs():
    """Without skip_dups, prep_batch's run in a 0.16 calc dir is run 2, after 0.16's runs, its lines live."""
    make_016_calc_dir()
    kw = local_machine(Path("t"))
    df = quiet(ps.prep_batch, ps.plist("a", [7]), **kw)
    assert df["_run_seq"].tolist() == [0, 0, 1, 2]
    live, _ = submit_lines("calc/run_local.sh")
    assert len(live) == 1 and "run_seq=2" in live[0]
    assert sorted(os.listdir("calc")).count("results.pk") == 0


def test_prep_batch_simulate_on_016_calc_dir_copies_database_pk():
    """prep_batch(simulate=True) on a 0.16 calc dir works on a copy of database.pk; the calc dir is untouched."""
    make_016_calc_dir()
    before = {name: Path("calc", name).read_bytes() for name in ("database.pk", "run_local.sh")}
    kw = local_machine(Path("t"))
    df = quiet(ps.prep_batch, ps.plist("a", [1, 9]), simulate=True, skip_dups=True, **kw)
    assert df["a"].tolist() == [1, 2, 3, 9]
    assert sorted(n for n in os.listdir("calc.simulate") if n.endswith(".pk")) == ["database.pk"]
    assert not os.path.exists("calc/results.pk")
    assert {name: Path("calc", name).read_bytes() for name in before} == before
    live, _ = submit_lines("calc.simulate/run_local.sh")
    assert len(live) == 1 and "run_seq=2" in live[0]


def test_prep_batch_backup_copies_016_database_as_0_16_wrote_it():
    """prep_batch(backup=True) in a 0.16 calc dir backs up database.pk unchanged, then continues it."""
    make_016_calc_dir()
    original = Path("calc/database.pk").read_bytes()
    quiet(ps.prep_batch, ps.plist("a", [4]), backup=True, **local_machine(Path("t")))
    backups = [name for name in os.listdir(".") if name.startswith("calc_")]
    assert len(backups) == 1
    assert Path(backups[0], "database.pk").read_bytes() == original
    assert len(ps.df_read("calc")) == 4 and not os.path.exists("calc/results.pk")


def test_runs_of_016_calc_dir_continued_by_run():
    """ps.runs('calc') on a 0.16 calc dir that ps.run continued lists 0.16's runs and the new one."""
    make_016_calc_dir()
    quiet(ps.run, lambda pset: {"b_": 1}, ps.plist("a", [4]))
    table = quiet(ps.runs, "calc")
    assert table["state"].tolist() == ["unknown", "unknown", "finished"]
    assert table["done"].tolist() == [2, 1, 1]
    out = cli("runs", "calc")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("unknown") == 2 and out.stdout.count("finished") == 1


def test_df_gather_reads_outputs_of_016_and_new_psets():
    """df_gather over df_read of a continued 0.16 calc dir finds the outputs of old and new pset folders."""
    make_016_calc_dir()
    df = quiet(ps.prep_batch, ps.plist("a", [4]), **local_machine(Path("t")))
    for pset_id in df["_pset_id"][df["a"].isin([2, 4])]:
        Path("calc", pset_id, "out.txt").write_text("done")

    def load(pset_dir):
        return {"out_": Path(pset_dir, "out.txt").read_text()}

    gathered, missing = ps.df_gather(ps.df_read("calc"), load)
    assert gathered["out_"].tolist()[1::2] == ["done", "done"]
    assert missing["a"].tolist() == [1, 3]


def test_df_write_of_a_016_calc_dir_writes_its_database_pk():
    """ps.df_write('calc', df) on a 0.16 calc dir replaces database.pk, not a new results.pk beside it."""
    make_016_calc_dir()
    df = quiet(ps.df_read, "calc")
    ps.df_write("calc", df.iloc[:2])
    assert not os.path.exists("calc/results.pk")
    assert len(ps.df_read("calc")) == 2


def test_an_explicit_database_basename_still_wins():
    """database_basename='results.pk' given explicitly starts results.pk in a 0.16 calc dir, as asked."""
    make_016_calc_dir()
    kw = local_machine(Path("t"))
    df = ps.prep_batch(ps.plist("a", [1]), database_basename="results.pk", **kw)
    assert len(df) == 1 and os.path.exists("calc/results.pk")
    assert len(ps.runs("calc", database_basename="results.pk")) == 1


def test_store_default_is_the_database_the_calc_dir_holds():
    """Store(calc_dir) without a name uses 0.16's database.pk in a 0.16 calc dir."""
    from psweep.store._store import Store

    make_016_calc_dir()
    store = quiet(Store, "calc")
    assert store.db_path == os.path.join("calc", "database.pk")
    assert len(store.read()) == 3


def test_database_name_decides_from_what_the_calc_dir_holds(tmp_path):
    """database_name: results.pk by default or when present (journals too), else database.pk if there."""
    from psweep.store._calcdir import database_name

    assert database_name("nothing") == "results.pk"
    make_016_calc_dir()
    assert quiet(database_name, "calc") == "database.pk"
    assert quiet(database_name, Path("calc")) == "database.pk"
    journals = Path("calc/.psweep/journal/results.pk")
    journals.mkdir(parents=True)
    (journals / "x.jnl").write_bytes(b"")
    assert database_name("calc") == "results.pk"
    assert database_name("calc", "mine.pk") == "mine.pk"


def _defaults_of_database_basename() -> dict[str, object]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args.args + node.args.kwonlyargs
                defaults = [None] * (len(node.args.args) - len(node.args.defaults)) + node.args.defaults
                defaults += node.args.kw_defaults
                for arg, default in zip(args, defaults):
                    if arg.arg == "database_basename" and default is not None:
                        found[f"{path.name}:{node.name}"] = ast.literal_eval(default)
    return found


def test_every_database_basename_default_is_none():
    """Every function with a database_basename parameter defaults it to None (ask psweep.store._calcdir)."""
    defaults = _defaults_of_database_basename()
    assert defaults and set(defaults.values()) == {None}, defaults
    for func in (ps.run, ps.runs, psweep.store.Store):
        assert inspect.signature(func).parameters["database_basename"].default is None


def test_the_default_name_is_spelled_in_one_module():
    """The string 'results.pk' is code (not docs) only in the schema module, where defaults are decided."""
    spelled = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            names = ("results.pk", "database.pk")
            if isinstance(node, ast.Constant) and node.value in names and id(node) not in docstrings:
                spelled.append(path.name)
    assert sorted(set(spelled)) == ["_schema.py"]


def test_cli_prints_the_016_notice_as_one_plain_line():
    """psweep show/runs/check on a 0.16 calc dir say 'using database.pk' in one plain stderr line."""
    make_016_calc_dir()
    for args in (["show", "calc"], ["runs", "calc"], ["check", "calc"]):
        out = cli(*args)
        assert out.returncode == 0, out.stderr
        lines = out.stderr.splitlines()
        assert len(lines) == 1, out.stderr
        assert lines[0].startswith("psweep: 'calc' holds psweep 0.16's database.pk")
        assert "Warning" not in out.stderr and ".py:" not in out.stderr


def test_0_16_scripts_print_the_notice_as_one_plain_line():
    """psweep-db2table on a 0.16 calc dir prints the notice as one plain line on stderr."""
    make_016_calc_dir()
    script = os.path.join(os.path.dirname(sys.executable), "psweep-db2table")
    if not os.path.exists(script):
        pytest.skip("console scripts are not installed")
    out = subprocess.run([script, "calc"], capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines() == [out.stderr.strip()]
    assert out.stderr.startswith("psweep: 'calc' holds") and "Warning" not in out.stderr


def test_python_api_keeps_the_warning():
    """In Python, the 0.16 notice stays a UserWarning (filterable), once per calc dir."""
    make_016_calc_dir()
    with pytest.warns(UserWarning, match="using database.pk"):
        ps.df_read("calc")
