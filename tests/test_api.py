"""The public API, pinned: what scripts import and call must not change by accident.

The snapshot ``tests/fixtures/api.json`` holds every name of
``psweep.__all__`` (also reachable as ``from psweep import psweep``): its
kind, its signature, for classes their bases and public methods, for
constants their values; the console scripts; ``python -m psweep``. A
deliberate change of the API updates the snapshot:

    PSWEEP_UPDATE_API_SNAPSHOT=1 python -m pytest tests/test_api.py

and the diff of ``api.json`` shows it in review.
"""

from __future__ import annotations

import builtins
import importlib.metadata
import inspect
import json
import os
import subprocess
import sys

import psweep
import psweep.errors
import psweep.psweep

SNAPSHOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "api.json")


def _signature(obj) -> str | None:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return None


def _class_name(cls) -> str:
    """A base class by module and name; another package's by name only (its
    module moves between its versions: wrapt's FunctionWrapper)."""
    if getattr(builtins, cls.__qualname__, None) is cls or cls.__module__.split(".")[0] == "psweep":
        return f"{cls.__module__}.{cls.__qualname__}"
    return cls.__qualname__


def _describe(obj) -> dict:
    if inspect.isclass(obj):
        methods = {
            name: _signature(member)
            for name, member in sorted(vars(obj).items())
            if not name.startswith("_") and callable(member)
        }
        return {
            "kind": "class",
            "bases": [_class_name(c) for c in obj.__mro__[1:]],
            "signature": _signature(obj),
            "methods": methods,
        }
    if callable(obj):
        return {"kind": "function", "signature": _signature(obj)}
    return {"kind": type(obj).__name__, "value": repr(obj)}


def api() -> dict:
    """The public API as it is now, in the snapshot's form."""
    names = {name: _describe(getattr(psweep, name)) for name in sorted(psweep.__all__) if name != "__version__"}
    errors = {name: _describe(getattr(psweep.errors, name)) for name in sorted(psweep.errors.__all__)}
    scripts = {
        ep.name: ep.value
        for ep in importlib.metadata.distribution("psweep").entry_points
        if ep.group == "console_scripts"
    }
    return {"psweep": names, "psweep.errors": errors, "console_scripts": scripts}


def test_public_api_matches_the_snapshot():
    """Every public name, signature, class hierarchy, constant and console script is as pinned."""
    now = api()
    if os.environ.get("PSWEEP_UPDATE_API_SNAPSHOT"):
        os.makedirs(os.path.dirname(SNAPSHOT), exist_ok=True)
        with open(SNAPSHOT, "w", encoding="utf-8") as fd:
            json.dump(now, fd, indent=1, sort_keys=True)
            fd.write("\n")
    with open(SNAPSHOT, encoding="utf-8") as fd:
        pinned = json.load(fd)
    for part in pinned:
        missing = sorted(set(pinned[part]) - set(now[part]))
        added = sorted(set(now[part]) - set(pinned[part]))
        assert not missing and not added, f"{part}: missing {missing}, added {added} (see this module's docstring)"
        for name in pinned[part]:
            assert now[part][name] == pinned[part][name], f"{part}.{name} changed (see this module's docstring)"


def test_the_package_tested_is_the_installed_one_when_asked():
    """CI's second suite runs against the installed wheel (PSWEEP_EXPECT_INSTALLED), not the source tree."""
    if os.environ.get("PSWEEP_EXPECT_INSTALLED"):
        assert "site-packages" in psweep.__file__, psweep.__file__
        assert not os.path.isdir(os.path.join(os.path.dirname(os.path.dirname(__file__)), "psweep"))


def test_from_psweep_import_psweep_is_the_same_api():
    """0.16's spelling ``from psweep import psweep as ps`` gives the very same objects."""
    for name in psweep.__all__:
        assert getattr(psweep.psweep, name) is getattr(psweep, name), name
    assert psweep.psweep.__version__ == psweep.__version__


def test_errors_derive_from_psweep_error_and_a_builtin_and_pickle():
    """Every error is a PsweepError and a builtin exception, and survives pickling (pools, Dask)."""
    import pickle

    for name in psweep.errors.__all__:
        cls = getattr(psweep.errors, name)
        assert issubclass(cls, psweep.PsweepError)
        if cls is not psweep.PsweepError:
            assert any(base.__module__ == "builtins" and base is not Exception for base in cls.__mro__), name
        again = pickle.loads(pickle.dumps(cls("a message")))
        assert type(again) is cls and "a message" in str(again)


def test_console_scripts_and_python_m_psweep_run():
    """Each console script's target loads, and ``python -m psweep --version`` prints the version."""
    for ep in importlib.metadata.distribution("psweep").entry_points:
        if ep.group == "console_scripts":
            assert callable(ep.load()), ep
    proc = subprocess.run(
        [sys.executable, "-m", "psweep", "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert psweep.__version__ in proc.stdout
