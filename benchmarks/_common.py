"""Shared helpers for the psweep benchmarks.

Every measurement runs in a fresh child interpreter (so peak RSS and caches
are its own) inside a fresh temporary directory that is removed afterwards.
A child is a small Python snippet; :func:`run_child` prepends a prelude that

* imports the implementation under test as ``ps`` (ours: ``import psweep as
  ps``; psweep 0.16: ``from psweep import psweep as ps``),
* defines ``CALC`` (the calc dir inside the temporary directory), ``DB``
  (the database file name of that implementation), ``ARGS`` (a dict passed
  by the parent) and ``now()`` (``time.perf_counter``),
* defines ``emit(**results)``, which prints one JSON line the parent parses,
  adding the child's peak RSS (``VmHWM``) and the largest peak RSS of its
  waited-for children (``RUSAGE_CHILDREN``, e.g. pool workers).

The scripts only print figures; nothing asserts on time. Targets are printed
as ``TARGET MET|MISSED <what>: <value>`` lines, which ``run_all.py`` collects.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass

import ref_venv

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))

MARK = "@@PSWEEP_BENCH@@"


@dataclass(frozen=True)
class Impl:
    """An implementation under test: which interpreter, how to import it."""

    name: str
    python: str
    import_line: str
    db: str
    # Put first on the child's sys.path (ours: this checkout), or "".
    path: str = ""


REPO_DIR = os.path.dirname(BENCH_DIR)
# Ours: this checkout's psweep, run by the interpreter running the script
# (or PSWEEP_BENCH_PYTHON). psweep 0.16: the reference venv that
# ref_venv.py creates in benchmarks/.venv-ref on first use (or
# PSWEEP_BENCH_REF_PYTHON).
OURS = Impl(
    name="ours",
    python=os.environ.get("PSWEEP_BENCH_PYTHON", sys.executable),
    import_line="import psweep as ps",
    db="results.pk",
    path=REPO_DIR,
)
REF = Impl(
    name="0.16",
    python=os.environ.get("PSWEEP_BENCH_REF_PYTHON", ref_venv.PYTHON),
    import_line="from psweep import psweep as ps",
    db="database.pk",
)


def interpreter(impl: Impl) -> str:
    """The python of `impl`, creating the default reference venv if missing."""
    return ref_venv.ensure(impl.python)

_PRELUDE = """\
import json, os, resource, sys, time
sys.path.insert(0, {bench_dir!r})
if {impl_path!r}:
    sys.path.insert(0, {impl_path!r})
{import_line}
IMPL = {impl!r}
DB = {db!r}
WORKDIR = {workdir!r}
CALC = os.path.join(WORKDIR, "calc")
ARGS = json.loads({args!r})
now = time.perf_counter


def peak_rss_mb():
    with open("/proc/self/status") as fd:
        for line in fd:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def children_peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def emit(**results):
    results.setdefault("peak_rss_mb", peak_rss_mb())
    results.setdefault("children_peak_rss_mb", children_peak_rss_mb())
    print({mark!r} + json.dumps(results), flush=True)


"""


class ChildError(RuntimeError):
    """A benchmark child failed; the message has its stderr."""


def child_env() -> dict[str, str]:
    """Environment of a child: benchmarks folder importable, no stray threads."""
    env = dict(os.environ)
    env["PYTHONPATH"] = BENCH_DIR
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    env["PYTHONWARNINGS"] = "ignore"
    return env


def write_child(
    impl: Impl, body: str, workdir: str, args: dict | None = None, name: str = "bench_child.py"
) -> str:
    """Write prelude + `body` to ``<workdir>/<name>``; return its path."""
    prelude = _PRELUDE.format(
        bench_dir=BENCH_DIR,
        impl_path=impl.path,
        import_line=impl.import_line,
        impl=impl.name,
        db=impl.db,
        workdir=workdir,
        args=json.dumps(args or {}),
        mark=MARK,
    )
    path = os.path.join(workdir, name)
    with open(path, "w") as fd:
        fd.write(prelude + textwrap.dedent(body))
    return path


def start_child(impl: Impl, script: str, workdir: str) -> subprocess.Popen:
    """Start a written child script without waiting for it."""
    return subprocess.Popen(
        [interpreter(impl), script],
        cwd=workdir,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def parse_child(proc: subprocess.Popen, stdout: str, stderr: str) -> dict:
    """The JSON the child emitted; ChildError if it failed or emitted none."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARK):
            if proc.returncode != 0:
                break
            return json.loads(line[len(MARK) :])
    raise ChildError(
        f"benchmark child exited with {proc.returncode}\n--- stdout ---\n"
        f"{stdout[-3000:]}\n--- stderr ---\n{stderr[-5000:]}"
    )


def run_child(
    impl: Impl, body: str, args: dict | None = None, workdir: str | None = None, timeout: float | None = 3600
) -> dict:
    """Run `body` under `impl` in a fresh temp dir (or `workdir`); return its emit().

    A temp dir made here is removed afterwards.
    """
    own = workdir is None
    if own:
        workdir = tempfile.mkdtemp(prefix=f"psweep-bench-{impl.name}-")
    try:
        script = write_child(impl, body, workdir, args)
        proc = start_child(impl, script, workdir)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            stdout, stderr = proc.communicate()
            raise ChildError(f"benchmark child timed out after {timeout} s\n{stderr[-3000:]}") from exc
        return parse_child(proc, stdout, stderr)
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def repeat(reps: int, measurements: dict, progress: bool = True) -> dict[str, list]:
    """Run each measurement `reps` times, interleaved (A B A B ...).

    Parameters
    ----------
    measurements
        name -> zero-argument callable returning a result dict.

    Returns
    -------
    name -> list of result dicts, one per repetition.
    """
    out: dict[str, list] = {name: [] for name in measurements}
    for rep in range(reps):
        for name, fn in measurements.items():
            t0 = time.perf_counter()
            out[name].append(fn())
            if progress:
                log(f"  [{rep + 1}/{reps}] {name}: {time.perf_counter() - t0:.1f} s")
    return out


def med(results: list[dict], key: str) -> float:
    """Median of `key` over repetition results."""
    return statistics.median(r[key] for r in results)


def log(msg: str) -> None:
    """Progress to stderr (figures go to stdout)."""
    print(msg, file=sys.stderr, flush=True)


def fmt_s(seconds: float) -> str:
    """Seconds with a sensible unit."""
    if seconds != seconds:
        return "nan"
    if abs(seconds) >= 1:
        return f"{seconds:.2f} s"
    if abs(seconds) >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.1f} us"


def table(headers: list[str], rows: list[list]) -> str:
    """Plain-text table, first column left-aligned, others right-aligned."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def target(met: bool, what: str, value: str) -> None:
    """Print a target line, collected by run_all.py."""
    print(f"TARGET {'MET' if met else 'MISSED'} {what}: {value}", flush=True)


def code_version() -> str:
    """Git commit of the repo, and a digest of the package's sources (it may be dirty)."""
    import glob
    import hashlib

    repo = os.path.dirname(BENCH_DIR)
    digest = hashlib.sha1()
    # Every module, subpackages too, named relative to the clone: the same
    # sources give the same digest in any folder.
    for path in sorted(glob.glob(os.path.join(repo, "psweep", "**", "*.py"), recursive=True)):
        with open(path, "rb") as fd:
            digest.update(os.path.relpath(path, repo).encode() + fd.read())
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = (
            subprocess.run(
                ["git", "diff", "--quiet", "HEAD", "--", "psweep"],
                cwd=repo,
                capture_output=True,
                timeout=10,
            ).returncode
            != 0
        )
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "?", False
    dirt = " + uncommitted psweep/ changes" if dirty else ""
    return f"commit {commit or '?'}{dirt}, psweep/**/*.py sha1 {digest.hexdigest()[:10]}"


def _shown(python: str) -> str:
    """An interpreter's path as results files show it: relative to the
    checkout, else its venv's last folders (no path of this machine)."""
    path = os.path.abspath(python)
    if path.startswith(REPO_DIR + os.sep):
        return os.path.relpath(path, REPO_DIR)
    return os.path.join("...", *path.split(os.sep)[-3:])


def header(title: str, argv_quick: bool) -> None:
    """Title with the context the figures need."""
    print(f"# {title}{' (--quick)' if argv_quick else ''}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
          f"ours: {_shown(OURS.python)}, ref: {_shown(REF.python)}")
    print(f"# {code_version()}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sys.stdout.flush()


def base_parser(description: str):
    """argparse parser with the common --quick and --reps options."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small smoke version (seconds)")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (median reported)")
    return parser
