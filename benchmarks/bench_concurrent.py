"""D concurrent driver processes x P distinct psets each on ONE calc dir.

Each driver is a real subprocess. All are started, import psweep and build
their psets, report ready, then wait for a start file, so their runs begin
together. Figures, ours and psweep 0.16: wall time (first start to last end,
as the drivers report it), rows/s, rows in the final database (read with
``ps.df_read`` in a fresh process), distinct rows, duplicates, lost rows and
failed drivers. Target: [0 lost rows for ours].

    python benchmarks/bench_concurrent.py [--quick] [--reps R]
        [--drivers D] [--psets P] [--sleep S]

Default D=8, P=150 (1200 rows), and two workloads: a trivial func and one
sleeping 5 ms per pset (so every driver's run surely overlaps the others).
--sleep S runs only the workload with S seconds per pset. --quick: D=4, P=50,
trivial func only.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time

from _common import (
    OURS,
    REF,
    ChildError,
    base_parser,
    fmt_s,
    header,
    log,
    parse_child,
    repeat,
    run_child,
    start_child,
    table,
    target,
    write_child,
)

DRIVER_BODY = """
from _funcs import double, sleepy
idx, n, sleep = ARGS["idx"], ARGS["n"], ARGS["sleep"]
if sleep:
    func, params = sleepy, [{"driver": idx, "a": j, "sleep": sleep} for j in range(n)]
else:
    func, params = double, [{"driver": idx, "a": j} for j in range(n)]
open(os.path.join(WORKDIR, f"ready.{idx}"), "w").close()
start_file = os.path.join(WORKDIR, "start")
while not os.path.exists(start_file):
    time.sleep(0.0005)
t_start = time.time()
error = None
try:
    ps.run(func, params, calc_dir=CALC)
except BaseException as exc:
    error = f"{type(exc).__name__}: {exc}"[:300]
emit(start=t_start, end=time.time(), error=error)
"""

READ_BODY = """
path = os.path.join(CALC, DB)
try:
    df = ps.df_read(path)
except Exception as exc:
    emit(rows=0, distinct=0, error=f"{type(exc).__name__}: {exc}"[:300])
else:
    pairs = list(zip(df["driver"].astype(int), df["a"].astype(int)))
    emit(rows=len(df), distinct=len(set(pairs)), error=None)
"""


def one_round(impl, drivers: int, n: int, sleep: float) -> dict:
    """One concurrent round in a fresh temp dir; returns its figures."""
    workdir = tempfile.mkdtemp(prefix=f"psweep-bench-conc-{impl.name}-")
    procs = []
    try:
        for idx in range(drivers):
            script = write_child(
                impl,
                DRIVER_BODY,
                workdir,
                {"idx": idx, "n": n, "sleep": sleep},
                name=f"driver_{idx}.py",
            )
            procs.append(start_child(impl, script, workdir))
        deadline = time.monotonic() + 300
        while sum(os.path.exists(os.path.join(workdir, f"ready.{i}")) for i in range(drivers)) < drivers:
            if time.monotonic() > deadline or any(p.poll() not in (None, 0) for p in procs):
                break
            time.sleep(0.01)
        open(os.path.join(workdir, "start"), "w").close()
        outs = []
        for proc in procs:
            stdout, stderr = proc.communicate(timeout=1800)
            try:
                outs.append(parse_child(proc, stdout, stderr))
            except ChildError as exc:
                outs.append({"start": float("nan"), "end": float("nan"), "error": str(exc)[-300:]})
        read = run_child(impl, READ_BODY, workdir=workdir)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)
    starts = [o["start"] for o in outs if o["start"] == o["start"]]
    ends = [o["end"] for o in outs if o["end"] == o["end"]]
    errors = [o["error"] for o in outs if o["error"]]
    wall = max(ends) - min(starts) if starts else float("nan")
    expected = drivers * n
    return {
        "wall": wall,
        "rows": read["rows"],
        "distinct": read["distinct"],
        "dups": read["rows"] - read["distinct"],
        "lost": expected - read["distinct"],
        "failed_drivers": len(errors),
        "errors": errors + ([read["error"]] if read["error"] else []),
        "expected": expected,
    }


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--drivers", type=int, default=None, help="concurrent processes D")
    parser.add_argument("--psets", type=int, default=None, help="distinct psets P per driver")
    parser.add_argument("--sleep", type=float, default=None, help="seconds per pset (one workload)")
    opts = parser.parse_args()
    drivers = opts.drivers or (4 if opts.quick else 8)
    n = opts.psets or (50 if opts.quick else 150)
    reps = opts.reps or (1 if opts.quick else 3)
    if opts.sleep is not None:
        sleeps = [opts.sleep]
    else:
        sleeps = [0.0] if opts.quick else [0.0, 0.005]
    header(f"bench_concurrent: {drivers} concurrent drivers x {n} psets on one calc dir", opts.quick)
    print(f"# median of {reps} repetitions (lost rows: worst repetition)")
    lines = []
    ours_lost = []
    for sleep in sleeps:
        label = "trivial" if not sleep else f"sleep {sleep * 1e3:g} ms"
        log(f"workload: {label}")
        res = repeat(
            reps,
            {
                impl.name: (lambda impl=impl, sleep=sleep: one_round(impl, drivers, n, sleep))
                for impl in (OURS, REF)
            },
        )
        for name, results in res.items():
            wall = statistics.median(r["wall"] for r in results)
            expected = results[0]["expected"]
            lines.append(
                [
                    label,
                    name,
                    fmt_s(wall),
                    f"{expected / wall:.0f}",
                    "/".join(str(r["rows"]) for r in results),
                    max(r["dups"] for r in results),
                    max(r["lost"] for r in results),
                    max(r["failed_drivers"] for r in results),
                ]
            )
            if name == "ours":
                ours_lost.extend(r["lost"] + r["dups"] for r in results)
            for r in results:
                for err in r["errors"]:
                    print(f"# {name} {label}: driver error: {err.splitlines()[-1] if err else err}")
    print()
    print(f"expected rows: {drivers * n}")
    print(
        table(
            [
                "workload",
                "impl",
                "wall",
                "rows/s",
                "rows in db (per rep)",
                "max dups",
                "max lost",
                "failed drivers",
            ],
            lines,
        )
    )
    print()
    target(
        max(ours_lost) == 0,
        f"concurrent: ours loses no rows ({drivers} drivers x {n} psets)",
        f"max lost+duplicated rows over all repetitions: {max(ours_lost)}",
    )


if __name__ == "__main__":
    main()
