"""Shared fixtures: every test and doctest runs in its own temporary folder."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile

import pytest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
if TESTS_DIR not in sys.path:
    # Worker functions live in tests/workers.py; spawned processes import
    # them from there, so the folder must be importable.
    sys.path.insert(0, TESTS_DIR)

# Ctrl-C is part of what the suite tests (SIGINT sent to drivers, workers and
# this process). A shell without job control starts a background command with
# SIGINT ignored, children inherit that through exec, and Python then installs
# no KeyboardInterrupt handler: every Ctrl-C test failed when the suite was
# started that way (e.g. "(nohup ... &)"). A handled signal is reset to the
# default on exec, so handling it here gives every child Python's own too.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# The other virtualenv of a CI run (.ci/run makes .venv with the newest
# versions and .venv-lower with the lowest): tests of databases written
# under one pandas/numpy and read under the other run their peer side in
# it. PSWEEP_PEER_PYTHON set by hand wins; without either, those tests skip.
_ROOT = os.path.dirname(TESTS_DIR)
_PEERS = {".venv": ".venv-lower", ".venv-lower": ".venv"}
if not os.environ.get("PSWEEP_PEER_PYTHON"):
    _here = os.path.basename(sys.prefix)
    _peer = os.path.join(_ROOT, _PEERS.get(_here, ""), "bin", "python")
    if _here in _PEERS and os.path.samefile(os.path.dirname(sys.prefix), _ROOT) and os.path.exists(_peer):
        os.environ["PSWEEP_PEER_PYTHON"] = _peer

# Dask's nannies and workers keep a scratch folder with lock files in the
# temporary directory (/tmp/dask-scratch-space by default), which outlived
# the suite: they get one of the suite's own, removed at its end. Set here,
# before any test module imports dask (which reads it then); workers
# inherit it.
_DASK_SCRATCH = tempfile.mkdtemp(prefix="psweep-tests-dask-")
os.environ.setdefault("DASK_TEMPORARY_DIRECTORY", _DASK_SCRATCH)


def pytest_unconfigure(config):
    """Remove the suite's Dask scratch folder."""
    shutil.rmtree(_DASK_SCRATCH, ignore_errors=True)


@pytest.fixture(autouse=True)
def _in_tmp_path(request, tmp_path, monkeypatch):
    """Run each test inside its own tmp_path, so relative calc dirs stay there;
    child processes import from tests/ and from the test's own folder."""
    monkeypatch.chdir(tmp_path)
    folders = [TESTS_DIR, os.path.dirname(str(request.path)), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(folders))
    yield
