"""The psweep command on a big database: time beyond reading the file.

Builds one database of N rows (N-3 trivial psets in one run, 3 failed psets
in a second; the same frame is also pickled as 0.16's database.pk), then
times whole commands as a user runs them (``python -m psweep ...``, output
to /dev/null): ``show`` (bounded to head and tail by default), ``show
--failed``, ``show --format csv --limit 20``, ``runs``, ``check`` and, for
reference, ``show --all-rows`` (what ``show`` printed before it was bounded).
"read" is a process that only imports psweep and reads the database
(``ps.df_read``); "beyond read" is a command's time minus that. psweep 0.16
has no ``psweep show``: its ``psweep-db2table database.pk`` (the whole table)
and its own read are timed in the same invocation. Target: [every command
answers within 2 s beyond reading the file, at N = 1M].

    /work/venv/bin/python benchmarks/bench_cli.py [--quick] [--reps R] [--rows N] [--ref-timeout S]

Default N = 1M (building it takes ~30 s; 0.16's db2table is cut at
--ref-timeout, default 120 s); --quick: N = 20k, 1 rep.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time

from _common import (
    OURS,
    REF,
    base_parser,
    child_env,
    fmt_s,
    header,
    log,
    run_child,
    table,
    target,
)

BUILD = """
from _funcs import double


def failing(pset):
    raise ValueError(f"a={pset['a']} is not allowed")


n = ARGS["n"]
ps.run(double, [{"a": i} for i in range(n - 3)], calc_dir=CALC)
ps.run(failing, [{"a": -i} for i in range(1, 4)], calc_dir=CALC)
df = ps.df_read(os.path.join(CALC, DB))
df.to_pickle(os.path.join(CALC, "database.pk"))  # the same rows for psweep 0.16
emit(rows=len(df))
"""

READ = "import sys{imp}; ps.df_read(sys.argv[1])"


def commands(calc: str) -> dict[str, list[str]]:
    """Our commands by name: arguments after ``python -m psweep``."""
    return {
        "show": ["show", calc],
        "show --failed": ["show", calc, "--failed"],
        "show --format csv --limit 20": ["show", calc, "--format", "csv", "--limit", "20"],
        "runs": ["runs", calc],
        "check": ["check", calc],
        "show --all-rows": ["show", calc, "--all-rows"],
    }


def timed(argv: list[str], cwd: str, timeout: float) -> float:
    """Wall time of one command, output to /dev/null; nan if it timed out."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            argv, cwd=cwd, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return float("nan")
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return took


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--rows", type=int, default=None, help="rows in the database (N)")
    parser.add_argument("--ref-timeout", type=float, default=120.0, help="cut 0.16's db2table after S s")
    opts = parser.parse_args()
    n = opts.rows or (20_000 if opts.quick else 1_000_000)
    reps = opts.reps or (1 if opts.quick else 3)
    header(f"bench_cli: psweep commands on a database of {n} rows", opts.quick)
    print(f"# median of {reps} repetitions of each whole command (interpreter start included)")
    workdir = tempfile.mkdtemp(prefix="psweep-bench-cli-")
    try:
        t0 = time.perf_counter()
        built = run_child(OURS, BUILD, {"n": n}, workdir=workdir)
        log(f"  built {built['rows']} rows in {time.perf_counter() - t0:.0f} s")
        calc = os.path.join(workdir, "calc")
        ours_db = os.path.join(calc, OURS.db)
        ref_db = os.path.join(calc, "database.pk")
        db2table = os.path.join(os.path.dirname(REF.python), "psweep-db2table")
        measurements = {"read": [OURS.python, "-c", READ.format(imp="; import psweep as ps"), ours_db]}
        for name, args in commands(calc).items():
            measurements[name] = [OURS.python, "-m", "psweep", *args]
        ref = {}
        if os.path.exists(db2table):
            ref = {
                "0.16 read": [REF.python, "-c", READ.format(imp="; from psweep import psweep as ps"), ref_db],
                "0.16 psweep-db2table": [db2table, ref_db],
            }
        times: dict[str, list[float]] = {name: [] for name in [*measurements, *ref]}
        for rep in range(reps):
            for name, argv in [*measurements.items(), *ref.items()]:
                if name in ("show --all-rows", "0.16 psweep-db2table") and rep > 0 and n > 100_000:
                    continue  # seconds to minutes each: one repetition says enough
                timeout = opts.ref_timeout if name.startswith("0.16") else 600.0
                times[name].append(timed(argv, workdir, timeout))
                log(f"  [{rep + 1}/{reps}] {name}: {times[name][-1]:.2f} s")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    medians = {name: statistics.median(t) for name, t in times.items() if t}
    read = medians["read"]
    rows = []
    for name, value in medians.items():
        base = medians["0.16 read"] if name.startswith("0.16") else read
        beyond = "-" if name in ("read", "0.16 read") else fmt_s(value - base)
        shown = f"> {fmt_s(opts.ref_timeout)} (cut)" if value != value else fmt_s(value)
        rows.append([name, shown, beyond])
    print()
    print(table(["command", "wall", "beyond read"], rows))
    if "0.16 psweep-db2table" in medians:
        ref_show = medians["0.16 psweep-db2table"]
        ratio = "nan (0.16 cut)" if ref_show != ref_show else f"{medians['show'] / ref_show:.3f}x"
        print(f"\nshow ours / 0.16 psweep-db2table: {ratio}; "
              f"read ours / 0.16: {read / medians['0.16 read']:.2f}x")
    else:
        print(f"\n(no psweep-db2table beside {REF.python}: 0.16 not timed)")
    bounded = [name for name in commands("") if name != "show --all-rows"]
    worst = max(bounded, key=lambda name: medians[name] - read)
    target(
        medians[worst] - read <= 2.0,
        f"cli: every command within 2 s beyond reading the file ({n} rows)",
        f"slowest '{worst}': {fmt_s(medians[worst] - read)} beyond a read of {fmt_s(read)}",
    )


if __name__ == "__main__":
    main()
