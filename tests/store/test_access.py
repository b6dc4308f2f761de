"""A calc dir the user cannot write to (issue 20, item 15): found before any pset runs, worded for permissions.

Permissions do not bind root, and the suite runs as root in CI: each case
runs in a child process that, started as root, drops its privileges to
the user ``nobody`` (after importing psweep and warming up a run), in a
folder of the system's temp folder that user can reach. Started as another
user, the child keeps its own: permissions bind it already.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile

import pytest

import psweep as ps
import workers
from test_store_hostile import remount, small_disk  # noqa: F401 (a fixture)

CHILD = r'''
import importlib, importlib.util, json, os, pwd, shutil, sys
import psweep as ps

CASE = sys.argv[1]


def logged(pset):
    with open("ran.log", "a") as fd:
        fd.write(f"{pset['x']}\n")
    return {"y": pset["x"] ** 2}


@ps.sweep(calc_dir="calc")
def study(pset):
    return logged(pset)


def prep(xs):
    return ps.prep_batch(ps.plist("x", xs), calc_templ_dir="templates/calc",
                         machine_templ_dir="templates/machines", skip_dups=CASE == "prep_batch_done")


def run(xs):
    if CASE == "over":
        return study.over(ps.plist("x", xs))
    if CASE in ("prep_batch", "prep_batch_done"):
        return prep(xs)
    return ps.run(logged, ps.plist("x", xs), calc_dir="calc")


def pset_folders():
    return sorted(n for n in os.listdir("calc") if len(n) == 36)


# Warm up as the starting user: every module a run, a fold and a read load
# lazily is loaded before the package files may become unreadable.
ps.run(logged, ps.plist("x", [0]), calc_dir="warm")
ps.df_read("warm")
for optional in ("yaml", "jinja2"):  # prep_batch imports these when it first needs them
    if importlib.util.find_spec(optional) is not None:
        importlib.import_module(optional)
shutil.rmtree("warm")
os.remove("ran.log")
if os.geteuid() == 0:
    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)

out = {"user": pwd.getpwuid(os.geteuid()).pw_name}
try:
    if CASE == "empty":
        os.mkdir("calc")  # a fresh calc dir: not even the lock file yet
    else:
        run([1, 2])
    before = pset_folders()
    if CASE == "recursive":
        for folder, dirs, files in os.walk("calc"):
            for name in dirs + files:
                os.chmod(os.path.join(folder, name), 0o555 if name in dirs else 0o444)
    os.chmod("calc", 0o555)
    try:
        run([1, 2] if CASE == "prep_batch_done" else [3])
    except OSError as exc:
        out["error"] = type(exc).__name__
        out["message"] = str(exc)
    out["ran"] = open("ran.log").read().split() if os.path.exists("ran.log") else []
    out["new_folders"] = len(pset_folders()) - len(before)
    out["rows"] = len(ps.df_read("calc")) if CASE != "empty" else 0
finally:
    for folder, dirs, files in os.walk("calc"):
        os.chmod(folder, 0o755)
print(json.dumps(out))
'''


@pytest.fixture
def shared_dir():
    """A folder the unprivileged user can reach by its absolute path (filelock resolves
    paths), in the system's temp folder; removed afterwards."""
    folder = tempfile.mkdtemp(prefix="psweep-test-access-")
    try:
        os.chmod(folder, 0o777)
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("nobody")
            except KeyError:
                pytest.skip("running as root, and there is no user 'nobody' to drop privileges to")
            parent = os.path.dirname(folder)
            while parent != os.path.dirname(parent):
                if not os.stat(parent).st_mode & stat.S_IXOTH:
                    pytest.skip(f"the user 'nobody' cannot reach the temp folder {folder} ({parent} is private)")
                parent = os.path.dirname(parent)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _child(case: str, folder: str) -> dict:
    """Run CHILD for `case` in `folder`; its JSON output."""
    templates = os.path.join(folder, "templates")
    os.makedirs(os.path.join(templates, "calc"))
    os.makedirs(os.path.join(templates, "machines", "local"))
    with open(os.path.join(templates, "calc", "input.txt"), "w") as fd:
        fd.write("x={{x}}\n")
    with open(os.path.join(templates, "machines", "local", "jobscript"), "w") as fd:
        fd.write("#!/bin/sh\n")
    with open(os.path.join(templates, "machines", "local", "info.yaml"), "w") as fd:
        fd.write("subcmd: sh\n")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, case], cwd=folder, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", ["run", "over", "prep_batch", "empty"])
def test_calc_dir_without_write_permission_is_refused_before_any_pset_naming_folder_user_mode_and_fix(
    case, shared_dir
):
    """chmod 555 calc: a StoreWriteError before any pset runs, naming folder, user, mode and the fix."""
    out = _child(case, shared_dir)
    assert out["error"] == "StoreWriteError", out
    message = out["message"]
    assert "calc_dir='calc'" in message and "no pset was run" in message
    assert "The folder 'calc'" in message
    assert f"user {out['user']!r}" in message
    assert "dr-xr-xr-x (555)" in message
    assert "chmod u+w calc" in message
    assert "disk space" not in message
    assert "3" not in out["ran"]  # the pset never ran
    assert out["new_folders"] == 0
    if case != "empty":
        assert out["rows"] == 2  # the database is unchanged


def test_prep_batch_with_nothing_new_works_in_a_calc_dir_one_cannot_write(shared_dir):
    """prep_batch(skip_dups=True) of psets all prepared changes nothing, so a read-only calc dir is fine."""
    out = _child("prep_batch_done", shared_dir)
    assert "error" not in out, out
    assert out["new_folders"] == 0 and out["rows"] == 2


def test_calc_dir_made_read_only_throughout_names_what_refused(shared_dir):
    """chmod -R a-w calc: still refused before any pset, naming a path inside calc and the permission fix."""
    out = _child("recursive", shared_dir)
    assert out["error"] == "StoreWriteError", out
    assert "no pset was run" in out["message"] and "calc" in out["message"]
    assert f"user {out['user']!r}" in out["message"] and "chmod -R u+w calc" in out["message"]
    assert "disk space" not in out["message"]
    assert "3" not in out["ran"] and out["rows"] == 2


def test_full_disk_at_start_stays_a_disk_space_message(small_disk):  # noqa: F811
    """A full disk before the run is about disk space, not permissions."""
    import contextlib

    calc = str(small_disk / "calc")
    ps.run(workers.square, ps.plist("x", [1]), calc_dir=calc)
    with open(small_disk / "filler", "wb") as fd:
        with contextlib.suppress(OSError):
            while True:
                fd.write(b"\0" * 65536)
                fd.flush()
    with pytest.raises(ps.StoreWriteError) as info:
        ps.run(workers.square, ps.plist("x", [2, 3]), calc_dir=calc)
    assert "Free disk space" in str(info.value)
    assert "mode" not in str(info.value) and "owner" not in str(info.value)
    assert len(ps.df_read(calc)) == 1


def test_read_only_mount_is_named_before_any_pset(small_disk):  # noqa: F811
    """A calc dir on a read-only mount: refused before any pset, saying read-only file system."""
    calc = str(small_disk / "calc")
    ps.run(workers.square, ps.plist("x", [1]), calc_dir=calc)
    remount(small_disk, "ro")
    params = [{"x": 2, "log": os.path.abspath("ran.log")}]
    with pytest.raises(ps.StoreWriteError, match="read-only file system"):
        ps.run(workers.logged_square, params, calc_dir=calc)
    assert not os.path.exists("ran.log")


def test_writable_calc_dir_check_leaves_no_file_behind():
    """The up-front probe leaves no file in the calc dir or its journal folder."""
    ps.run(workers.square, ps.plist("x", [1, 2]), calc_dir="calc")
    names = sorted(os.listdir("calc"))
    assert names == [".psweep", "backup_script", "results.pk", "results.pk.lock"]
    assert os.listdir(os.path.join("calc", ".psweep", "journal", "results.pk")) == []


def test_message_of_a_write_error_in_a_colleagues_folder_names_the_owner(tmp_path):
    """A folder owned by someone else: the fix is to ask its owner (no chmod we cannot do)."""
    from psweep.store._access import write_fix

    if os.geteuid() != 0:
        pytest.skip("giving a folder to another user needs root")
    folder = tmp_path / "theirs"
    folder.mkdir()
    os.chown(folder, 12345, 12345)
    exc = PermissionError(13, "Permission denied", str(folder / "results.pk.lock"))
    text = write_fix(exc)
    assert "owner '12345'" in text and "ask its owner" in text and "The folder 'theirs'" in text

