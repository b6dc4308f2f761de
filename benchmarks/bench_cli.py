"""The psweep command on a big database: time beyond reading the file.

Builds one database of N rows (N-3 trivial psets in one run, 3 failed psets
in a second; the same frame is also pickled as 0.16's database.pk). Then:

* beyond read (the target's figure): in a fresh child, ``ps.df_read`` once
  (the unpickling, timed as "read"), then each command through
  ``psweep.cli.main`` in the same process, output to /dev/null; the child's
  read cache makes the command's own read a stat and a copy, so its time is
  what the command costs apart from reading the file. Measured in one
  process, it is steady on a loaded machine where whole-process times are not.
* wall: each whole command as a user runs it (``python -m psweep ...``,
  interpreter start and read included), one run each, including ``show
  --all-rows`` (what ``show`` printed before it was bounded) and psweep
  0.16's ``psweep-db2table database.pk`` (0.16 has no ``psweep show``; it
  prints the whole table), cut after --ref-timeout seconds.

Commands: ``show`` (bounded to head and tail by default), ``show --failed``,
``show --run <prefix>``, ``show --format csv --limit 20``, ``runs`` and
``check``. Target: [every command answers within 2 s beyond reading the
file, at N = 1M].

    python benchmarks/bench_cli.py [--quick] [--reps R] [--rows N] [--ref-timeout S]

Default N = 1M, 3 reps (building the database takes ~30 s on an idle
machine); --quick: N = 20k, 1 rep.
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
    interpreter,
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
df = ps.run(failing, [{"a": -i} for i in range(1, 4)], calc_dir=CALC)
df.to_pickle(os.path.join(CALC, "database.pk"))  # the same rows for psweep 0.16
emit(rows=len(df), run_prefix=df["_run_id"].iloc[0][:8])
"""

IN_PROCESS = """
import contextlib
from psweep.cli import main

t0 = now()
ps.df_read(os.path.join(CALC, DB))
times = {"read": now() - t0}
with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
    for name, argv in ARGS["commands"].items():
        t0 = now()
        code = main(argv)
        times[name] = now() - t0
        assert code == 0, (name, code)
emit(**times)
"""

READ = "import sys{imp}; ps.df_read(sys.argv[1])"


def commands(calc: str, run_prefix: str) -> dict[str, list[str]]:
    """Our bounded commands by name: arguments after ``psweep``."""
    return {
        "show": ["show", calc],
        "show --failed": ["show", calc, "--failed"],
        "show --run <prefix>": ["show", calc, "--run", run_prefix],
        "show --format csv --limit 20": ["show", calc, "--format", "csv", "--limit", "20"],
        "runs": ["runs", calc],
        "check": ["check", calc],
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
    workdir = tempfile.mkdtemp(prefix="psweep-bench-cli-")
    try:
        t0 = time.perf_counter()
        built = run_child(OURS, BUILD, {"n": n}, workdir=workdir)
        log(f"  built {n} rows in {time.perf_counter() - t0:.0f} s")
        calc = os.path.join(workdir, "calc")
        cmds = commands(calc, built["run_prefix"])
        inproc = []
        for rep in range(reps):
            inproc.append(run_child(OURS, IN_PROCESS, {"commands": cmds}, workdir=workdir))
            log(f"  [{rep + 1}/{reps}] in-process: read {inproc[-1]['read']:.2f} s, "
                f"slowest command {max(v for k, v in inproc[-1].items() if k in cmds):.2f} s")
        walls = {"read": [OURS.python, "-c", READ.format(imp="; import psweep as ps"),
                          os.path.join(calc, OURS.db)]}
        walls.update({name: [OURS.python, "-m", "psweep", *argv] for name, argv in cmds.items()})
        walls["show --all-rows"] = [OURS.python, "-m", "psweep", "show", calc, "--all-rows"]
        db2table = os.path.join(os.path.dirname(interpreter(REF)), "psweep-db2table")
        if os.path.exists(db2table):
            ref_db = os.path.join(calc, "database.pk")
            ref_read = READ.format(imp="; from psweep import psweep as ps")
            walls["0.16 read"] = [interpreter(REF), "-c", ref_read, ref_db]
            walls["0.16 psweep-db2table"] = [db2table, ref_db]
        wall = {}
        for name, argv in walls.items():
            wall[name] = timed(argv, workdir, opts.ref_timeout if name.startswith("0.16") else 900.0)
            log(f"  wall {name}: {wall[name]:.2f} s")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    beyond = {name: statistics.median(r[name] for r in inproc) for name in ["read", *cmds]}
    print(f"# beyond read: median of {reps} fresh processes; wall: one run each")
    print()
    rows = []
    for name in [*walls]:
        shown = f"> {fmt_s(opts.ref_timeout)} (cut)" if wall[name] != wall[name] else fmt_s(wall[name])
        rows.append([name, fmt_s(beyond[name]) if name in beyond else "-", shown])
    print(table(["command", "beyond read (read: its time)", "wall"], rows))
    if "0.16 psweep-db2table" in wall:
        ref_show = wall["0.16 psweep-db2table"]
        ratio = f"< {wall['show'] / opts.ref_timeout:.3f}x (0.16 cut)" if ref_show != ref_show else (
            f"{wall['show'] / ref_show:.3f}x")
        print(f"\nwall of show, ours / 0.16 psweep-db2table: {ratio}; "
              f"read ours / 0.16: {wall['read'] / wall['0.16 read']:.2f}x")
    else:
        print(f"\n(no psweep-db2table beside {interpreter(REF)}: 0.16 not timed)")
    worst = max(cmds, key=lambda name: beyond[name])
    target(
        beyond[worst] <= 2.0,
        f"cli: every command within 2 s beyond reading the file ({n} rows)",
        f"slowest '{worst}': {fmt_s(beyond[worst])} beyond a read of {fmt_s(beyond['read'])}",
    )


if __name__ == "__main__":
    main()
