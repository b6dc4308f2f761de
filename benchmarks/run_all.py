"""Run every benchmark in turn and collect their TARGET lines at the end.

    python benchmarks/run_all.py [--quick] [--big] [--reps R] [--only NAME ...]

``--quick`` and ``--reps`` are passed through to each script. ``--big`` adds
bench_big.py (a million psets, ~3-10 min); ``--quick`` never runs it. Progress goes to
stderr, figures to stdout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = [
    "bench_run_scaling.py",
    "bench_extend.py",
    "bench_concurrent.py",
    "bench_skip_dups.py",
    "bench_pool.py",
    "bench_instructions.py",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke versions")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per figure")
    parser.add_argument("--big", action="store_true", help="also bench_big.py (1M psets; not with --quick)")
    parser.add_argument(
        "--only", nargs="*", default=None, help="script names (e.g. bench_pool) to run instead of all"
    )
    opts = parser.parse_args()
    everything = SCRIPTS + (["bench_big.py"] if opts.big and not opts.quick else [])
    scripts = everything
    if opts.only:
        wanted = {o.removesuffix(".py") for o in opts.only}
        scripts = [s for s in SCRIPTS + ["bench_big.py"] if s.removesuffix(".py") in wanted]
    extra = (["--quick"] if opts.quick else []) + (["--reps", str(opts.reps)] if opts.reps else [])
    targets: list[str] = []
    failed: list[str] = []
    t_all = time.perf_counter()
    for script in scripts:
        t0 = time.perf_counter()
        print(f"\n{'=' * 78}\n$ {sys.executable} benchmarks/{script} {' '.join(extra)}".rstrip(), flush=True)
        proc = subprocess.run(
            [sys.executable, os.path.join(HERE, script), *extra],
            stdout=subprocess.PIPE,
            text=True,
            cwd=HERE,
        )
        sys.stdout.write(proc.stdout)
        print(f"[{script}: {time.perf_counter() - t0:.0f} s, exit {proc.returncode}]", flush=True)
        if proc.returncode != 0:
            failed.append(script)
        targets += [line for line in proc.stdout.splitlines() if line.startswith("TARGET ")]
    print(f"\n{'=' * 78}\nSummary ({time.perf_counter() - t_all:.0f} s{', --quick' if opts.quick else ''}):")
    for line in targets:
        print("  " + line)
    if failed:
        print(f"FAILED scripts: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
