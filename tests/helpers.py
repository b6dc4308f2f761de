"""Small helpers shared by tests that drive real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "drivers.py")


def start_driver(*args: str) -> subprocess.Popen:
    """Start tests/drivers.py with `args` in a new process, output piped."""
    return subprocess.Popen(
        [sys.executable, DRIVER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(predicate, timeout: float, what: str) -> None:
    """Poll `predicate` until true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def read_lines(path: str) -> list[str]:
    """Non-empty lines of a log file, [] if it does not exist yet."""
    if not os.path.exists(path):
        return []
    with open(path) as fd:
        return [line.strip() for line in fd if line.strip()]


def run_notebook(path, timeout: float = 120):
    """Execute the notebook at `path` in a real Jupyter kernel started in its folder.

    The kernel is this interpreter's ipykernel, found through a kernel spec
    written beside the notebook, and is told the notebook's path the way
    jupyter_server does (JPY_SESSION_NAME). Returns the executed notebook
    and the kernel's pid; the kernel is shut down (and reaped) on return.
    """
    import json
    import sys
    from pathlib import Path

    import jupyter_client
    import nbclient
    import nbformat

    path = Path(path).resolve()
    spec_root = path.parent / ".jupyter-test"
    spec_dir = spec_root / "kernels" / "psweep-test"
    spec_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec_dir / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "t", "language": "python"}))
    env = {"JUPYTER_PATH": str(spec_root), "JPY_SESSION_NAME": str(path)}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    nb = nbformat.read(path, as_version=4)
    km = jupyter_client.KernelManager(kernel_name="psweep-test")
    try:
        km.start_kernel(cwd=str(path.parent))
        pid = km.provisioner.pid
        nbclient.NotebookClient(nb, km=km, timeout=timeout, startup_timeout=timeout).execute()
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return nb, pid
