"""CPU instructions per pset and per run of a serial run, ours vs psweep 0.16 (valgrind).

Wall-clock figures on this shared 2-core machine move by +-30 % with the load.
Counting the user-space instructions a run executes (valgrind's callgrind) is
deterministic, so this script gives a steady view of the CPU work per pset:
instructions of a run of N trivial psets minus those of a run of 10, divided
by N - 10 (imports and start-up cancel out). It also gives the whole run of
1000 psets (instructions of that process minus those of a process that only
imports and builds params), the CPU side of bench_run_scaling.py's 1k figure,
fixed cost per run included. System calls (e.g. our one journal ``write`` per
row) happen in the kernel and are not counted, and neither do cache misses, so
this complements bench_run_scaling.py's wall-clock ratio rather than replacing
it.

    python benchmarks/bench_instructions.py [--quick] [-n N]

Needs ``valgrind`` on PATH (skipped with a note otherwise); takes ~2-3 min.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor

from _common import OURS, REF, base_parser, child_env, header, interpreter, log, table, write_child

BODY = """
from _funcs import double
params = [{"a": i} for i in range(ARGS["n"])]
if ARGS["n"]:  # 0: imports and params only, the baseline of a whole run
    df = ps.run(double, params, calc_dir=CALC)
    assert len(df) == ARGS["n"]
"""

SMALL = 10
WHOLE = 1000


def instructions(impl, n: int) -> int:
    """User-space instructions of one child process running N psets."""
    workdir = tempfile.mkdtemp(prefix=f"psweep-bench-{impl.name}-")
    try:
        script = write_child(impl, BODY, workdir, {"n": n})
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", interpreter(impl), script],
            cwd=workdir,
            env=child_env(),
            capture_output=True,
            text=True,
        )
        found = re.search(r"Collected\s*:\s*(\d+)", proc.stderr) or re.search(
            r"refs:\s*([\d,]+)", proc.stderr
        )
        if proc.returncode != 0 or found is None:
            raise RuntimeError(f"valgrind run of {impl.name} failed:\n{proc.stderr[-3000:]}")
        return int(found.group(1).replace(",", ""))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def warm_up(impl) -> None:
    """Run the child once without valgrind, so that no counted run compiles sources.

    Python writes a module's .pyc on its first import after the source changed;
    counted runs that compile (the first ones after an edit, and only some of them
    when they run two at a time) would otherwise differ by millions of instructions.
    """
    workdir = tempfile.mkdtemp(prefix=f"psweep-bench-{impl.name}-")
    try:
        script = write_child(impl, BODY, workdir, {"n": SMALL})
        subprocess.run([interpreter(impl), script], cwd=workdir, env=child_env(), capture_output=True, check=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("-n", type=int, default=None, help="psets of the large run (default 5000)")
    parser.add_argument("--ours-only", action="store_true", help="skip psweep 0.16 (an A/B of our code)")
    opts = parser.parse_args()
    n = opts.n or (1000 if opts.quick else 5000)
    header(f"bench_instructions: user-space instructions per pset (callgrind), N={n}", opts.quick)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: skipped (apt install valgrind)")
        return
    impls = (OURS,) if opts.ours_only else (OURS, REF)
    for impl in impls:  # imports compile stale .pyc files once, outside the counts
        warm_up(impl)
    jobs = [(impl, size) for impl in impls for size in sorted({0, SMALL, WHOLE, n})]
    log(f"{len(jobs)} valgrind runs, 2 at a time ({', '.join(f'{i.name} N={s}' for i, s in jobs)})")
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: instructions(*job), jobs)))
    per = {impl.name: (counts[(impl, n)] - counts[(impl, SMALL)]) / (n - SMALL) for impl in impls}
    rows = [
        [
            impl.name,
            f"{counts[(impl, SMALL)] / 1e6:.0f}",
            f"{counts[(impl, n)] / 1e6:.0f}",
            f"{per[impl.name] / 1e3:.1f}",
        ]
        for impl in impls
    ]
    print()
    print(table(["impl", f"Minstr N={SMALL}", f"Minstr N={n}", "k instr/pset"], rows))
    print()
    whole = {impl.name: counts[(impl, WHOLE)] - counts[(impl, 0)] for impl in impls}
    small = {impl.name: counts[(impl, SMALL)] - counts[(impl, 0)] for impl in impls}
    if opts.ours_only:
        print(
            f"whole run of {WHOLE} psets (imports excluded): ours {whole['ours'] / 1e6:.1f} M; "
            f"run of {SMALL} psets: ours {small['ours'] / 1e6:.1f} M instructions"
        )
        return
    print(f"ours/0.16 instructions per pset: {per['ours'] / per['0.16']:.3f}x")
    print()
    print(
        f"whole run of {WHOLE} psets (imports excluded): ours {whole['ours'] / 1e6:.1f} M, "
        f"0.16 {whole['0.16'] / 1e6:.1f} M instructions: {whole['ours'] / whole['0.16']:.3f}x"
    )
    print(
        f"run of {SMALL} psets (mostly a run's fixed cost): ours {small['ours'] / 1e6:.1f} M, "
        f"0.16 {small['0.16'] / 1e6:.1f} M instructions"
    )


if __name__ == "__main__":
    main()
