"""Backups of a calc dir and capture of the source that ran a study."""

from __future__ import annotations

import ast
import contextlib
import datetime
import fcntl
import functools
import hashlib
import inspect
import json
import linecache
import os
import platform
import subprocess
import shutil
import sys
import textwrap
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from psweep._files import remove_if_unlocked, write_atomic
from psweep.errors import PsweepError
from psweep.provenance._notebook import command_line, kernel_shell
from psweep._schema import JOURNAL_NEW_SUFFIX, RUN_RECORDS_DIR, VERSION

__all__ = [
    "backup_name",
    "backup_calc_dir",
    "read_source",
    "code_hash",
    "run_code_hashes",
    "write_source",
    "git_state",
    "write_provenance",
    "end_provenance",
]

_STAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def backup_name(calc_dir: str, db: pd.DataFrame) -> str:
    """Path of the backup of `calc_dir` holding the state of `db`.

    Parameters
    ----------
    calc_dir
        The calc dir.
    db
        Its database (with a ``_time_utc`` column).

    Returns
    -------
    str
        A sibling of `calc_dir` named after the last ``_time_utc``, e.g.
        ``calc_2026-11-27T19:06:07.845008Z``.
    """
    last = pd.Timestamp(db["_time_utc"].max())
    parent, name = os.path.split(os.path.normpath(calc_dir))
    return os.path.join(parent, f"{name}_{last.strftime(_STAMP_FORMAT)}")


def backup_calc_dir(calc_dir: str, db: pd.DataFrame) -> str | None:
    """Copy `calc_dir` to a sibling named after the last row of `db`.

    Symlinks are copied as links. The copy goes to a temporary name and is
    renamed at the end, so a folder under the final name is always whole.
    When that folder exists already, it holds this very state (same last
    ``_time_utc``), and it is kept rather than copied again.

    Parameters
    ----------
    calc_dir
        The calc dir; call with its database lock held.
    db
        Its database; nothing is copied when it has no rows.

    Returns
    -------
    str or None
        The backup's path, or None if there was nothing to back up.
    """
    if len(db) == 0 or "_time_utc" not in db.columns:
        return None
    dst = backup_name(calc_dir, db)
    if os.path.exists(dst):
        return dst
    parent, name = os.path.split(dst)
    _remove_dead_temp_backups(parent, os.path.basename(os.path.normpath(calc_dir)))
    tmp = os.path.join(parent, f".{name}{_TEMP_MARK}{uuid.uuid4().hex[:8]}")
    # A lock file beside the temporary copy, flock'ed while we copy: the
    # OS frees it when we die (even by SIGKILL), so the next backup knows
    # the copy is litter.
    marker = os.open(tmp + ".lock", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(marker, fcntl.LOCK_EX)
        shutil.copytree(
            calc_dir,
            tmp,
            symlinks=True,
            ignore=shutil.ignore_patterns(f"*.jnl.*{JOURNAL_NEW_SUFFIX}"),
        )
        os.rename(tmp, dst)
    except OSError:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        if os.path.isdir(dst):
            # Another driver renamed the same state into place first.
            return dst
        raise
    finally:
        with contextlib.suppress(OSError):
            os.remove(tmp + ".lock")
        os.close(marker)
    return dst


_TEMP_MARK = ".tmp-"
# A temporary backup without a lock file (made by an older psweep) is
# taken for litter once it is this old.
_OLD_TEMP_AGE = 3600.0


def _remove_dead_temp_backups(parent: str, calc_name: str) -> None:
    """Remove temporary copies left in `parent` by backups that were killed."""
    try:
        names = os.listdir(parent or ".")
    except FileNotFoundError:
        return
    for entry in names:
        if not (entry.startswith(f".{calc_name}_") and _TEMP_MARK in entry):
            continue
        path = os.path.join(parent, entry)
        if not entry.endswith(".lock"):
            if not os.path.exists(path + ".lock"):  # an older psweep's, or ours half-removed
                with contextlib.suppress(OSError):
                    if time.time() - os.stat(path).st_mtime > _OLD_TEMP_AGE:
                        shutil.rmtree(path)
            continue
        # Unless a live backup is copying (and holds the lock).
        remove_if_unlocked(path, guarded=path[: -len(".lock")])


def read_source(func: Callable[..., Any]) -> str | None:
    """Source text of the module that defines `func`, else of `func` alone.

    Read once, when a function is decorated, so that edits made to the
    script while a study runs do not leak into what is recorded.

    Parameters
    ----------
    func
        The user's function.

    Returns
    -------
    str or None
        None when no source can be found (a warning says so), and in a
        Jupyter kernel, where each run records the notebook instead.
    """
    module = sys.modules.get(getattr(func, "__module__", None) or "")
    path = getattr(module, "__file__", None)
    if path and os.path.isfile(path) and path.endswith(".py"):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            with open(path, encoding="utf-8") as fd:
                return fd.read()
    if kernel_shell() is not None:
        return None  # run() records the cells run so far (psweep.provenance._notebook)
    try:
        text = inspect.getsource(func)
    except (OSError, TypeError):
        text = None
    if text is not None and _defines(text, func):
        return text
    warnings.warn(
        f"psweep: no source found for {getattr(func, '__qualname__', func)!r} "
        f"(defined in a REPL or with python -c?); backup_script/ will "
        f"not record the code of this study. Put the function in a "
        f".py file to have it recorded.",
        UserWarning,
        stacklevel=3,
    )
    return None


def _defines(text: str, func: Callable[..., Any]) -> bool:
    """Whether `text`, from ``inspect.getsource(func)``, is `func`'s definition.

    inspect finds source by file name and line number in linecache, which
    may hold other text under the same pseudo file name: on Python 3.13,
    the program of ``python -c`` is cached as "<string>", the file name of
    all code run by ``exec``, so getsource returns lines of the program.
    """
    name = getattr(func, "__name__", None)
    if name == "<lambda>":
        return "lambda" in text
    try:
        body = ast.parse(textwrap.dedent(text)).body
    except SyntaxError:
        return False
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return any(isinstance(node, kinds) and node.name == name for node in body)


def code_hash(func: Callable[..., Any]) -> str | None:
    """A hash of the code of `func`, to tell rows made by other code apart.

    It hashes the function's source as parsed (``ast.unparse``), without
    its decorators, so that reformatting, comments or a changed
    ``@ps.sweep(...)`` option do not count as other code, and the value
    does not depend on the Python version. A function without source (a
    lambda made in a REPL) falls back to its byte code, which is specific
    to the Python version. Functions the function calls are not included.
    An object with a ``psweep_code_hash()`` method gives its own value
    (:func:`psweep.prep_batch`'s writer: its templates are its code).

    Parameters
    ----------
    func
        The user's function (a :class:`~psweep.Sweep`, a
        ``functools.partial`` or a callable object: their function).

    Returns
    -------
    str or None
        ``"src:<sha1>"`` or ``"py3.X:<sha1>"``; None when `func` has no
        Python code (e.g. a builtin).

    Examples
    --------
    >>> from psweep.provenance._backup import code_hash
    >>> def f(pset):
    ...     return {"y": pset["x"]}  # a comment does not count
    >>> def g(pset):
    ...     return {"y": pset["x"] + 1}
    >>> code_hash(f) == code_hash(g), code_hash(f)[:4]
    (False, 'src:')
    """
    func = inspect.unwrap(func)
    while isinstance(func, functools.partial):
        func = inspect.unwrap(func.func)
    own = getattr(func, "psweep_code_hash", None)
    if callable(own):  # prep_batch's writer: its templates are its code
        return str(own())
    if not hasattr(func, "__code__") and callable(func):
        func = type(func).__call__  # a callable object: its method
    code = getattr(func, "__code__", None)
    if code is None:
        return None
    known = _CODE_HASHES.get(code)
    if known is None:
        if len(_CODE_HASHES) > 256:  # e.g. a notebook redefining cells all day
            _CODE_HASHES.clear()
        known = _CODE_HASHES[code] = _hash_code(code)
    return known


# Parsing the source takes up to milliseconds: once per function and process.
_CODE_HASHES: dict[Any, str] = {}


def _hash_code(code: Any) -> str:
    node = _definition(code)
    if node is not None:
        if not isinstance(node, ast.Lambda):
            node.decorator_list = []
        return "src:" + hashlib.sha1(ast.unparse(node).encode()).hexdigest()
    version = f"py{sys.version_info[0]}.{sys.version_info[1]}"
    return f"{version}:" + hashlib.sha1(_code_bytes(code)).hexdigest()


def _definition(code: Any) -> ast.AST | None:
    """The syntax tree of the function `code` was compiled from, or None.

    Found by name and first line in the parsed text of its file (or of
    its notebook cell, which linecache holds), not with inspect.getsource,
    whose tokenizer costs milliseconds on its first use in a process.
    """
    lines = linecache.getlines(code.co_filename)
    if not lines:
        return None
    try:
        tree = ast.parse("".join(lines))
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == code.co_name:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            if first == code.co_firstlineno:
                return node
        elif isinstance(node, ast.Lambda) and code.co_name == "<lambda>":
            if node.lineno == code.co_firstlineno:
                return node
    return None


def _code_bytes(code: Any) -> bytes:
    """Byte code, names and constants of `code` and the code it nests, not line numbers."""
    parts = [code.co_code, repr((code.co_names, code.co_varnames, code.co_freevars)).encode()]
    for const in code.co_consts:
        parts.append(_code_bytes(const) if inspect.iscode(const) else repr(const).encode())
    return b"\0".join(parts)


def run_code_hashes(calc_dir: str, run_ids: Iterable[str]) -> dict[str, str | None]:
    """The :func:`code_hash` each run recorded in its provenance file.

    Parameters
    ----------
    calc_dir
        The calc dir.
    run_ids
        ``_run_id`` values.

    Returns
    -------
    dict
        ``{run_id: hash}``; None for a run that recorded none (made before
        psweep recorded it, or its ``backup_script/<run_id>.json`` is gone).
    """
    folder = os.path.join(calc_dir, RUN_RECORDS_DIR)
    hashes: dict[str, str | None] = {}
    for run_id in run_ids:
        try:
            with open(os.path.join(folder, f"{run_id}.json"), encoding="utf-8") as fd:
                hashes[run_id] = json.load(fd).get("code_hash")
        except (OSError, ValueError, AttributeError):
            hashes[run_id] = None
    return hashes


def write_source(calc_dir: str, run_id: str, source: str) -> str:
    """Write `source` to ``<calc_dir>/backup_script/<run_id>.py``.

    Parameters
    ----------
    calc_dir
        The calc dir.
    run_id
        The run's ``_run_id``.
    source
        Source text.

    Returns
    -------
    str
        The file written.
    """
    folder = os.path.join(calc_dir, RUN_RECORDS_DIR)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{run_id}.py")
    with open(path, "w", encoding="utf-8") as fd:
        fd.write(source)
    return path


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def git_state() -> dict[str, Any]:
    """Commit, dirty flag and uncommitted diff of the git work tree here.

    Returns
    -------
    dict
        ``commit``, ``dirty``, ``diff`` (text of ``git diff HEAD``) and
        ``toplevel``.

    Raises
    ------
    PsweepError
        If the current folder is not inside a git work tree, or git is not
        installed.
    """
    try:
        toplevel = _git("rev-parse", "--show-toplevel").strip()
    except FileNotFoundError as exc:
        raise PsweepError(
            "git=True needs the git program, which was not found. Install "
            "git, or run without git=True."
        ) from exc
    except subprocess.CalledProcessError as exc:
        raise PsweepError(
            f"git=True: {os.getcwd()!r} is not inside a git work tree "
            f"({exc.stderr.strip()}). Run the study from a git repository "
            f"(git init; git add; git commit), or drop git=True."
        ) from exc
    try:
        commit = _git("rev-parse", "HEAD").strip()
    except subprocess.CalledProcessError as exc:
        raise PsweepError(
            f"git=True: the repository {toplevel!r} has no commit yet. "
            f"Commit your study code first."
        ) from exc
    status = _git("status", "--porcelain")
    return {
        "toplevel": toplevel,
        "commit": commit,
        "dirty": bool(status.strip()),
        "diff": _git("diff", "HEAD"),
    }


@functools.lru_cache(maxsize=None)
def _static_provenance() -> dict[str, Any]:
    """What does not change within one process; looked up once (ms each)."""
    # The modules' own version attributes: importlib.metadata would parse
    # package metadata files, milliseconds on the first run of a process.
    versions = {
        "psweep": VERSION,
        "pandas": pd.__version__,
        "numpy": np.__version__,
    }
    uname = platform.uname()
    return {
        "python": sys.version,
        "packages": versions,
        "host": uname.node,
        # platform.platform() would start a `uname -p` subprocess
        "platform": f"{uname.system}-{uname.release}-{uname.machine}",
    }


def write_provenance(
    calc_dir: str,
    run_id: str,
    git: dict[str, Any] | None,
    func_hash: str | None = None,
    planned: int | None = None,
    database: str | None = None,
) -> str:
    """Write ``<calc_dir>/backup_script/<run_id>.json`` (and ``.diff``).

    Records Python and package versions, host, platform, command line (in
    a Jupyter kernel: the notebook), working folder and the function's
    :func:`code_hash`; with `git`, the commit and dirty flag, and the
    uncommitted diff beside it as ``<run_id>.diff``. Also what
    :func:`psweep.runs` needs to tell a run's state: the planned number of
    psets, the database, the driver's pid and the start time. The file is
    written atomically and stays locked (``flock``) until
    :func:`end_provenance` adds the end marker, so a reader can tell a
    running run from one whose process died.

    Parameters
    ----------
    calc_dir
        The calc dir.
    run_id
        The run's ``_run_id``.
    git
        Result of :func:`git_state`, or None.
    func_hash
        :func:`code_hash` of the run's function.
    planned
        Number of psets the run will execute.
    database
        File name of the run's database in `calc_dir`.

    Returns
    -------
    str
        The JSON file written.

    Examples
    --------
    >>> import json
    >>> from psweep.provenance._backup import end_provenance, write_provenance
    >>> path = write_provenance("calc", "run-1", None, planned=3, database="results.pk")
    >>> end_provenance(path, "finished", rows=3, failed=0)
    >>> json.load(open(path))["end"]["state"]
    'finished'
    """
    info: dict[str, Any] = {
        "_run_id": run_id,
        **_static_provenance(),
        "argv": command_line(),
        "cwd": os.getcwd(),
        "code_hash": func_hash,
        "pid": os.getpid(),
        "start_utc": _utc_now(),
        "planned": planned,
        "database": database,
    }
    folder = os.path.join(calc_dir, RUN_RECORDS_DIR)
    os.makedirs(folder, exist_ok=True)
    if git is not None:
        info["git"] = {k: v for k, v in git.items() if k != "diff"}
        if git["diff"]:
            with open(os.path.join(folder, f"{run_id}.diff"), "w", encoding="utf-8") as fd:
                fd.write(git["diff"])
    path = os.path.join(folder, f"{run_id}.json")
    fd = _write_json_atomically(path, info, keep_locked=True)
    with _LIVE_LOCK:
        _LIVE_FILES[path] = (fd, info)
    return path


# Provenance files of this process's running runs: path -> (locked file
# descriptor, the info written). The lock tells readers that the run lives;
# the OS releases it when the process dies, even by SIGKILL.
_LIVE_FILES: dict[str, tuple[int, dict[str, Any]]] = {}
_LIVE_LOCK = threading.Lock()

# States a run's end marker can hold; see psweep.provenance._status for how they are read.
END_STATES = ("finished", "interrupted", "stopped")


def end_provenance(path: str, state: str, rows: int, failed: int, error: str | None = None) -> None:
    """Add the end marker to a run's provenance file and release its lock.

    One atomic rewrite at the end of the run: no cost per row.

    Parameters
    ----------
    path
        The file :func:`write_provenance` returned.
    state
        ``"finished"`` (every planned pset ran), ``"interrupted"``
        (Ctrl-C) or ``"stopped"`` (an exception ended the run).
    rows, failed
        Rows the run recorded, and how many of them failed.
    error
        For ``"stopped"``: the exception's type and message.

    Examples
    --------
    See :func:`write_provenance`.
    """
    with _LIVE_LOCK:
        fd, info = _LIVE_FILES.pop(path)
    try:
        end = {"state": state, "time_utc": _utc_now(), "rows": rows, "failed": failed}
        if error is not None:
            end["error"] = error
        _write_json_atomically(path, {**info, "end": end}, keep_locked=False)
    except OSError as exc:
        # The rows are safe; only the status display suffers: no exception.
        warnings.warn(
            f"psweep: could not write the end marker to {path}: {exc}. "
            f"'psweep runs' cannot tell how this run ended; its rows are kept.",
            RuntimeWarning,
            stacklevel=2,
        )
    finally:
        os.close(fd)  # after the rename: a reader never sees it unlocked and unmarked


def _utc_now() -> str:
    """Now in UTC as ISO text without zone, like the ``_time_utc`` values."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).isoformat()


def _write_json_atomically(path: str, info: dict[str, Any], keep_locked: bool) -> int | None:
    """Write `info` to `path` atomically; with `keep_locked`, return the
    descriptor that holds the new file's lock (closing it releases it)."""
    return write_atomic(path, json.dumps(info, indent=1).encode("utf-8"), keep_locked=keep_locked).fd
