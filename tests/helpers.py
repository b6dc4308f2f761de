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


def make_016_calc_dir(
    calc_dir: str = "calc",
    runs: tuple[list[dict], ...] = ([{"a": 1}, {"a": 2}], [{"a": 3}]),
    machines: tuple[str, ...] = ("local",),
    subcmd: str = "sh",
):
    """A calc dir as psweep 0.16's prep_batch leaves it, built with pandas alone.

    Each run in `runs` is a list of psets. Per pset a folder
    ``<calc_dir>/<_pset_id>/`` with ``input.txt`` (``a = <a>``) and, per
    machine, ``jobscript_<machine>`` (``cat input.txt > out.txt``, no final
    newline, as 0.16's jinja2 rendering writes it); ``database.pk``, a
    pickled frame with every column ``object`` and rows indexed 0, 1, ...;
    and per machine ``run_<machine>.sh`` in 0.16's layout: ``cd $here/<id>;
    <subcmd> jobscript_<machine>  # run_seq=R pset_seq=S``, the lines of
    earlier runs commented out. Checked against calc dirs 0.16.0 wrote.
    Returns the frame pickled.
    """
    import hashlib
    import pickle
    import uuid

    import pandas as pd

    os.makedirs(calc_dir, exist_ok=True)
    start = pd.Timestamp("2025-03-01 12:00:00")
    records = []
    for run_seq, psets in enumerate(runs):
        run_id = str(uuid.uuid4())
        for pset in psets:
            pset_id = str(uuid.uuid4())
            seq = len(records)
            folder = os.path.join(calc_dir, pset_id)
            os.makedirs(folder)
            with open(os.path.join(folder, "input.txt"), "w") as fd:
                fd.write(f"a = {pset.get('a')}")
            for machine in machines:
                with open(os.path.join(folder, f"jobscript_{machine}"), "w") as fd:
                    fd.write("cat input.txt > out.txt")
            records.append({
                **pset,
                "_pset_hash": hashlib.sha1(repr(sorted(pset.items())).encode()).hexdigest(),
                "_pset_id": pset_id,
                "_run_seq": run_seq,
                "_pset_seq": seq,
                "_run_id": run_id,
                "_calc_dir": calc_dir,
                "_time_utc": start + pd.Timedelta(seconds=seq),
                "_exec_host": "oldhost",
                "_pset_runtime": 0.003,
            })
    df = pd.DataFrame(records, dtype=object)
    df = df.where(df.notna(), pd.NA)  # 0.16 fills keys a pset lacks with pd.NA
    with open(os.path.join(calc_dir, "database.pk"), "wb") as fd:
        pickle.dump(df, fd)
    last = len(runs) - 1
    for machine in machines:
        lines = [
            f"{'' if row['_run_seq'] == last else '# '}cd $here/{row['_pset_id']}; {subcmd} "
            f"jobscript_{machine}  # run_seq={row['_run_seq']} pset_seq={row['_pset_seq']}"
            for row in records
        ]
        with open(os.path.join(calc_dir, f"run_{machine}.sh"), "w") as fd:
            fd.write("#!/bin/sh\n\nhere=$(readlink -f $(dirname $0))\n\n" + "\n".join(lines) + "\n")
    return df


def check_timed_out(df, hung_x, timeout):
    """Only the pset x == hung_x failed, saying it timed out after `timeout` s; the rest ran."""
    by_x = df.set_index("x")
    assert by_x["_failed"].tolist() == [x == hung_x for x in by_x.index], by_x["_exc_txt"]
    assert f"timed out after {timeout:g} s" in by_x.loc[hung_x, "_exc_txt"]
    ok = by_x[~by_x["_failed"]]
    assert (ok["y"] == ok.index**2).all()


def check_only_pset_2_failed(df):
    """Rows of unpicklable_on_2 over x = 0..4: only x == 2 failed, naming key, type and fix."""
    assert sorted(df["x"]) == [0, 1, 2, 3, 4]
    by_x = df.set_index("x")
    assert by_x["_failed"].tolist() == [x == 2 for x in by_x.index]
    text = by_x.loc[2, "_exc_txt"]
    assert "'f'" in text and "function" in text, text
    assert "return plain data" in text and "<_calc_dir>/<_pset_id>/" in text, text
    assert by_x.loc[2, "ok_"] == 2  # the storable results of that pset are kept
    assert [by_x.loc[x, "r_"] for x in (0, 1, 3, 4)] == [0, 1, 3, 4]


# A child process that holds a file lock on argv[1] until killed; it prints
# "locked" once it holds it.
HOLD_LOCK = """
import sys, time, filelock
lock = filelock.FileLock(sys.argv[1])
lock.acquire()
print("locked", flush=True)
time.sleep(600)
"""
