"""Big studies (issue 17): a million psets, and extending a million-row database.

(a) peak RSS and time of serial runs of N = 1M and 100k trivial psets and of a
    100k run with poolsize=2 (ours), and of psweep 0.16's 100k serial run;
    memory is the driver's peak (VmHWM) above its RSS after imports and
    params, per pset [target: <= 0.6 KB/pset]. One repetition each: RSS does
    not move with the machine's load.
(b) marginal cost per pset up to 1M, (t(N) - t(1)) / (N - 1), against the
    same at 20k [target: linear, i.e. about equal].
(c) extending the 1M-row database of (a) by M=100 psets, each run in a fresh
    process [target: <= 0.6 s per run], and a second run in the same process
    (database cached); where the time of a run goes (read, concat, pickle,
    fsync, freeing the old file).
(d) skip_dups of 1k psets (half of them stored) against it, fresh process
    [target: <= 0.5 s].

psweep 0.16 runs (a) at 100k only: its 1M run and a 1M-row database of its own
would take minutes to build (``--ref-1m`` runs its 1M serial run too).

    python benchmarks/bench_big.py [--reps R] [--n N] [--ref-1m]

Takes ~3-10 min (and ~2 GB of RAM, 0.5 GB of disk in a temp dir).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile

from _common import OURS, REF, base_parser, fmt_s, header, log, run_child, table, target

RUN = """
from _funcs import double
n, pool = ARGS["n"], ARGS["pool"]
params = [{"a": i} for i in range(n)]
rss_before = peak_rss_mb()
t0 = now()
df = ps.run(double, params, calc_dir=CALC, poolsize=pool)
seconds = now() - t0
emit(seconds=seconds, rows=len(df), rss_before_mb=rss_before)
"""

EXTEND = """
import time
from _funcs import double
params = [{"a": a} for a in ARGS["a"]]
c0, t0 = time.process_time(), now()
df = ps.run(double, params, calc_dir=CALC, skip_dups=ARGS["skip_dups"])
seconds, cpu = now() - t0, time.process_time() - c0
rows = len(df)
again = None
if ARGS["again"]:
    t1 = now()
    df = ps.run(double, [{"a": a + 0.5} for a in ARGS["a"]], calc_dir=CALC)
    again = now() - t1
emit(seconds=seconds, cpu=cpu, again=again, rows=rows)
"""

# Where an extension's time goes, step by step as the fold does it (same
# functions), on the real database; the file is rewritten as it was.
PARTS = """
import os, pickle, time
from psweep import dbfile, dbformat
path = os.path.join(CALC, DB)
parts = {}
def step(name, fn):
    c0, t0 = time.process_time(), now()
    out = fn()
    parts[name] = (now() - t0, time.process_time() - c0)
    return out
db = step("read (unpickle)", lambda: dbfile._read_pickle(path)[0])
new = dbfile.concat_rows(db.iloc[:0], db.iloc[-100:])
big = step("concat 100 rows", lambda: dbfile.concat_rows(db, new))
tmp = path + ".bench.tmp"
fobj = open(tmp, "wb")
step("pickle + write", lambda: dbformat.write_frame(fobj, big))
step("flush", fobj.flush)
step("fsync", lambda: os.fsync(fobj.fileno()))
fobj.close()
step("free a file of that size", lambda: os.remove(tmp))
with open(os.devnull, "wb") as null:
    step("plain pickle (before, for comparison)", lambda: pickle.dump(big, null, protocol=pickle.HIGHEST_PROTOCOL))
emit(parts=parts, size_mb=os.path.getsize(path) / 1e6)
"""


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="psets of the big run (default 1M)")
    parser.add_argument("--ref-1m", action="store_true", help="also psweep 0.16's serial run of N psets")
    opts = parser.parse_args()
    n, mid, small = opts.n, 100_000, 20_000
    reps = opts.reps or 3
    header(f"bench_big: runs of {n} psets, extending a {n}-row database", False)
    print(f"# (a) one repetition each (RSS is load-independent); (b)-(d) median of {reps}")
    workdir = tempfile.mkdtemp(prefix="psweep-bench-big-")
    try:
        runs = {}
        cases = [("ours serial", OURS, 1, None), ("ours serial", OURS, small, None)]
        cases += [("ours serial", OURS, mid, None), ("ours pool=2", OURS, mid, 2), ("0.16 serial", REF, mid, None)]
        cases += [("0.16 serial", REF, small, None), ("ours serial", OURS, 1, None), ("0.16 serial", REF, 1, None)]
        if opts.ref_1m:
            cases.append(("0.16 serial", REF, n, None))
        for name, impl, size, pool in cases:
            log(f"(a) {name} N={size}")
            runs.setdefault((name, size), []).append(run_child(impl, RUN, {"n": size, "pool": pool}))
        log(f"(a) ours serial N={n} (its database is kept for (c) and (d))")
        runs[("ours serial", n)] = [run_child(OURS, RUN, {"n": n, "pool": None}, workdir=workdir)]

        rows = []
        for (name, size), results in runs.items():
            if size == 1:
                continue
            r = results[0]
            growth = r["peak_rss_mb"] - r["rss_before_mb"]
            rows.append(
                [
                    f"{name} N={size}",
                    fmt_s(r["seconds"]),
                    f"{r['rss_before_mb']:.0f}",
                    f"{r['peak_rss_mb']:.0f}",
                    f"{growth * 1024 * 1024 / size:.0f}",
                    f"{r['children_peak_rss_mb']:.0f}" if "pool" in name else "-",
                    r["rows"],
                ]
            )
        print()
        print("(a) peak RSS (driver VmHWM) and time, MB:")
        print(
            table(
                ["run", "time", "after import+params", "peak", "B/pset above", "largest worker", "rows"], rows
            )
        )

        def t1(name):
            return statistics.median(r["seconds"] for r in runs[(name, 1)])

        def marginal(name, size):
            return (runs[(name, size)][0]["seconds"] - t1(name)) / (size - 1)

        m_small, m_big = marginal("ours serial", small), marginal("ours serial", n)
        m_ref = marginal("0.16 serial", small)
        print()
        print(
            f"(b) marginal cost per pset, (t(N) - t(1)) / (N - 1): ours {m_small * 1e6:.1f} us at "
            f"N={small}, {m_big * 1e6:.1f} us at N={n} ({m_big / m_small:.2f}x); 0.16 at N={small}: "
            f"{m_ref * 1e6:.1f} us (ours {m_small / m_ref:.3f}x; one repetition, "
            f"bench_run_scaling.py gives medians); t(1) ours {fmt_s(t1('ours serial'))}, "
            f"0.16 {fmt_s(t1('0.16 serial'))}"
        )

        ext, dup = [], []
        for rep in range(reps):
            log(f"(c) [{rep + 1}/{reps}] extend by 100, fresh process")
            new = [10_000_000 + rep * 1000 + i for i in range(100)]
            args = {"a": new, "again": True, "skip_dups": False}
            ext.append(run_child(OURS, EXTEND, args, workdir=workdir))
            log(f"(d) [{rep + 1}/{reps}] skip_dups, 1k psets of which 500 stored")
            half = [rep * 1000 + i for i in range(500)] + [20_000_000 + rep * 1000 + i for i in range(500)]
            dup.append(run_child(OURS, EXTEND, {"a": half, "again": False, "skip_dups": True}, workdir=workdir))
        log("(c) parts of an extension")
        parts = run_child(OURS, PARTS, {}, workdir=workdir)
        t_ext = statistics.median(r["seconds"] for r in ext)
        t_again = statistics.median(r["again"] for r in ext)
        t_dup = statistics.median(r["seconds"] for r in dup)
        print()
        print(
            f"(c) extend the {n}-row database by 100 psets: {fmt_s(t_ext)} per run in a fresh process "
            f"(CPU {fmt_s(statistics.median(r['cpu'] for r in ext))}; runs "
            f"{', '.join(fmt_s(r['seconds']) for r in ext)}); a second run in the same process "
            f"{fmt_s(t_again)}"
        )
        print(f"    its parts, done once as the fold does them ({parts['size_mb']:.0f} MB file), wall / CPU:")
        for name, (wall, cpu) in parts["parts"].items():
            print(f"      {name:40s} {fmt_s(wall):>9s} / {fmt_s(cpu)}")
        print(
            f"(d) skip_dups of 1000 psets (500 stored) against it: {fmt_s(t_dup)} "
            f"(runs {', '.join(fmt_s(r['seconds']) for r in dup)})"
        )
        print()
        for name, size in (("ours serial", n), ("ours serial", mid), ("ours pool=2", mid)):
            r = runs[(name, size)][0]
            per = (r["peak_rss_mb"] - r["rss_before_mb"]) * 1024 * 1024 / size
            target(per <= 600, f"memory: {name} N={size} <= 600 B/pset above baseline", f"{per:.0f} B/pset")
        target(m_big <= 1.2 * m_small, f"marginal cost linear to N={n} (<= 1.2x that at {small})",
               f"{m_big / m_small:.2f}x")
        target(t_ext <= 0.6, f"extend a {n}-row database by 100 psets <= 0.6 s", fmt_s(t_ext))
        target(t_dup <= 0.5, f"skip_dups of 1k psets against {n} rows <= 0.5 s", fmt_s(t_dup))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
