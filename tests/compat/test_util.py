"""Tests of psweep/util.py, psweep/gitutil.py and psweep/constants.py: 0.16's helpers."""

from __future__ import annotations

import inspect
import io
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import psweep as ps
from psweep._schema import DEFAULT_BASENAME
from psweep import psweep as ps_compat

NAMES_016 = (
    "system makedirs fullpath file_write file_read pickle_write pickle_read json_write json_read "
    "is_seq itr flatten flatten_dict get_uuid get_many_uuids df_extract_pset df_extract_row "
    "df_extract_dicts df_update_pset_cols df_update_pset_hash df_ensure_dtypes df_to_json "
    "filter_cols check_calc_dir git_clean git_enter git_exit in_git_repo PsweepHashError CALC_DIR "
    "DATABASE_BASENAME FILL_VALUE GIT_ADD_ALL PANDAS_DEFAULT_ORIENT PANDAS_TIME_UNIT PSET_HASH_ALG"
).split()


@pytest.mark.parametrize("name", NAMES_016)
def test_0_16_names_are_exported_from_both_import_styles(name):
    """Each name of issue 14 item 1 is in psweep.__all__ and in psweep.psweep."""
    assert name in ps.__all__
    assert getattr(ps_compat, name) is getattr(ps, name)


def test_constants_are_the_defaults_the_functions_use():
    """CALC_DIR/DATABASE_BASENAME are run()'s defaults, PSET_HASH_ALG pset_hash's, etc."""
    run_defaults = inspect.signature(ps.run).parameters
    assert run_defaults["calc_dir"].default == ps.CALC_DIR == "calc"
    # database_basename=None: results.pk, or psweep 0.16's database.pk where it is alone
    assert run_defaults["database_basename"].default is None
    assert DEFAULT_BASENAME == ps.DATABASE_BASENAME == "results.pk"
    assert inspect.signature(ps.pset_hash).parameters["method"].default == ps.PSET_HASH_ALG == "sha1"
    assert inspect.signature(ps.df_update_pset_cols).parameters["fill_value"].default is ps.FILL_VALUE
    assert ps.PANDAS_DEFAULT_ORIENT == "records" and ps.PANDAS_TIME_UNIT == "ns"
    assert ps.GIT_ADD_ALL.startswith("git add")


def test_system_returns_output_and_raises_on_a_failed_chain(capsys):
    """system gives stdout+stderr; a failing command of an && chain raises after printing."""
    assert ps.system("echo out; echo err 1>&2").stdout.decode() == "out\nerr\n"
    ps.system("true; false; true")  # only the last exit code counts, as in a shell
    with pytest.raises(subprocess.CalledProcessError):
        ps.system("echo before-fail && false && echo never")
    assert "before-fail" in capsys.readouterr().err
    ps.file_write("sub/run.sh", "set -eu\nnosuchcommand_psweep\n")
    with pytest.raises(subprocess.CalledProcessError):
        ps.system("cd sub && sh run.sh")
    assert ps.system("pwd", cwd="sub").stdout.decode().strip().endswith("sub")


def test_file_pickle_json_helpers_create_folders_and_round_trip(tmp_path):
    """file/pickle/json write create parent folders; read gives the same back."""
    deep = tmp_path / "a" / "b" / "c"
    ps.file_write(deep / "t.txt", "some text")
    assert ps.file_read(deep / "t.txt") == "some text"
    ps.file_write(deep / "t.txt", " more", mode="a")
    assert ps.file_read(str(deep / "t.txt")) == "some text more"
    obj = {"a": 1, "f": np.sin, "arr": np.arange(3), "s": {1, 2}}
    ps.pickle_write(str(deep / "o.pk"), obj)
    back = ps.pickle_read(deep / "o.pk")
    assert back["f"] is np.sin and back["s"] == {1, 2} and back["arr"].tolist() == [0, 1, 2]
    assert ps.pset_hash(back) == ps.pset_hash(obj)
    dct = {"a": 1, "b": "b", "c": {"d": 23.4, "f": {"g": None}}}
    ps.json_write(deep / "x.json", dct)
    assert ps.json_read(deep / "x.json") == dct


def test_file_write_replaces_characters_the_encoding_cannot_hold(tmp_path):
    """Under an ASCII locale a non-ASCII character is written as an XML reference."""
    path = tmp_path / "t.txt"
    code = "import psweep as ps, sys; ps.file_write(sys.argv[1], 'mu=\\u03bc')"
    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    subprocess.run([sys.executable, "-c", code, str(path)], env=env, check=True, timeout=60)
    assert path.read_bytes() == b"mu=&#956;"


def test_makedirs_and_fullpath():
    """makedirs is idempotent and ignores ''; fullpath expands ~ and makes paths absolute."""
    ps.makedirs("x/y")
    ps.makedirs("x/y")
    ps.makedirs("")
    assert os.path.isdir("x/y")
    assert ps.fullpath("x") == os.path.join(os.getcwd(), "x")
    assert ps.fullpath("~") == os.path.expanduser("~")


def test_is_seq_flatten_and_flatten_dict():
    """Strings, dicts and files are no sequences; flatten walks nested ones; flatten_dict joins keys."""
    for obj in ({"a": 1}, io.IOBase(), "123", b"12", 5):
        assert not ps.is_seq(obj)
    for obj in ([1, 2], {1, 2}, (1, 2), range(2), np.arange(2), (x for x in "a")):
        assert ps.is_seq(obj)
    assert list(ps.flatten([1, (2, [3, "ab"]), [[{"k": 1}]]])) == [1, 2, 3, "ab", {"k": 1}]
    dct = {"a": 1, "b": {"c": 2, "d": {23: 42}}}
    assert ps.flatten_dict(dct) == {"a": 1, "b_c": 2, "b_d_23": 42}
    assert ps.flatten_dict(dct, join_str="+") == {"a": 1, "b+c": 2, "b+d+23": 42}


def test_itr_lets_a_sequence_function_take_items():
    """@itr: f(1) == f([1]), f(1, 2) == f([1, 2]); keywords and generators pass through."""

    @ps.itr
    def func(args, *, add=1):
        return [a for a in args] if add is None else [a + add for a in args]

    assert func(1) == [2] == func([1])
    assert func(1, 2) == [2, 3] == func([1, 2])
    assert func([[1]], add=None) == [[1]]
    assert func(x for x in [1, 2]) == [2, 3]
    assert func.__name__ == "func"


def test_uuids_are_distinct_and_avoid_existing():
    """get_uuid/get_many_uuids give UUID4 text not in `existing`; impossible demands raise."""
    uuid_re = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    existing = ps.get_many_uuids(100)
    assert len(set(existing)) == 100 and all(uuid_re.match(u) for u in existing)
    assert ps.get_uuid(existing=existing) not in existing
    fresh = ps.get_many_uuids(100, existing=existing)
    assert len(set(fresh)) == 100 and not set(fresh) & set(existing)


def test_uuids_retry_then_raise_when_every_draw_collides(monkeypatch):
    """If uuid4 keeps giving a taken UUID, get_uuid gives up after `retry` draws with PsweepError."""
    import psweep.compat._uuids

    taken = "b5233ba3-25eb-40ac-b2b1-d1babbacd904"
    draws = []
    monkeypatch.setattr(psweep.compat._uuids.uuid, "uuid4", lambda: draws.append(1) or taken)
    with pytest.raises(ps.PsweepError, match="in 3 attempts; pass a larger retry="):
        ps.get_uuid(retry=3, existing=[taken])
    assert len(draws) == 3
    with pytest.raises(ps.PsweepError, match="could not make 2 UUIDs"):
        ps.get_many_uuids(2)


# ---------------------------------------------------------------------------
# git helpers, on a real repository
# ---------------------------------------------------------------------------


@pytest.fixture
def git_env(monkeypatch, tmp_path):
    """A home without git config and a committer identity, so commits work as root in CI."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(var, "psweep test")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(var, "test@example.invalid")
    study = tmp_path / "study"
    study.mkdir()
    monkeypatch.chdir(study)
    return study


def _log() -> list[str]:
    return subprocess.run(
        ["git", "log", "--format=%s"], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\n")[:-1]


def test_git_enter_refuses_missing_or_dirty_repo_unless_always_commit(git_env):
    """No repo / a dirty tree: GitError naming the fix; always_commit=True inits and commits."""
    assert not ps.in_git_repo()
    ps.git_enter(False)  # use_git=False does nothing
    with pytest.raises(ps.GitError, match="not inside a git repository.*always_commit=True"):
        ps.git_enter(True)
    ps.file_write("input.py", "a = 1\n")
    ps.git_enter(True, always_commit=True)
    assert ps.in_git_repo() and ps.git_clean()
    assert _log() == ["psweep: study: init"]
    ps.file_write("input.py", "a = 2\n")
    assert not ps.git_clean()
    with pytest.raises(ps.GitError, match="uncommitted changes"):
        ps.git_enter(True)
    ps.git_enter(True, always_commit=True)
    assert ps.git_clean()
    assert _log() == ["psweep: study: local changes", "psweep: study: init"]


def test_git_exit_commits_what_a_run_wrote_naming_its_run_id(git_env):
    """After a run in a clean repo, git_exit commits the calc dir with the _run_id."""
    ps.file_write("input.py", "a = 1\n")
    ps.git_enter(True, always_commit=True)
    df = ps.run(lambda pset: {"y": pset["a"]}, ps.plist("a", [1, 2]))
    assert not ps.git_clean()
    ps.git_exit(True, df)
    assert ps.git_clean()
    assert _log()[0] == f"psweep: study: run_id={df['_run_id'].iloc[-1]}"
    ps.git_exit(True, df)  # nothing new: no empty commit
    assert len(_log()) == 2
