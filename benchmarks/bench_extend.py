"""A study extended K times by M new psets each: K calls of run on one calc dir.

Figures, ours and psweep 0.16 (trivial func, serial, one process making all
K calls): time of the first and the last call (also mean of the first 5 and
last 5 calls, less noisy), total, last/first, and rows in the database at the
end. Targets: [our last call <= 2x our first] (judged on the means of the
first 5 and last 5 calls; the single calls are printed too) and [our total
<= 0.05x 0.16's].

    python benchmarks/bench_extend.py [--quick] [--reps R] [--extensions K] [--new M]

Default K=50, M=100 (0.16 takes a minute or two: it reads, re-types and
rewrites the whole database on every call); --quick: K=10.
"""

from __future__ import annotations

import statistics

from _common import (
    OURS,
    REF,
    base_parser,
    fmt_s,
    header,
    log,
    repeat,
    run_child,
    table,
    target,
)

BODY = """
from _funcs import double
K, M = ARGS["k"], ARGS["m"]
times = []
for i in range(K):
    params = [{"a": i * M + j} for j in range(M)]
    t0 = now()
    df = ps.run(double, params, calc_dir=CALC)
    times.append(now() - t0)
emit(times=times, rows=len(df), rows_on_disk=len(ps.df_read(os.path.join(CALC, DB))))
"""


def summarise(results: list[dict]) -> dict[str, float]:
    """Per-repetition figures, then the median over repetitions."""
    per_rep = []
    for r in results:
        t = r["times"]
        per_rep.append(
            {
                "first": t[0],
                "last": t[-1],
                "first5": statistics.mean(t[:5]),
                "last5": statistics.mean(t[-5:]),
                "total": sum(t),
                "rows": r["rows_on_disk"],
            }
        )
    return {k: statistics.median(p[k] for p in per_rep) for k in per_rep[0]}


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--extensions", type=int, default=None, help="K calls of run")
    parser.add_argument("--new", type=int, default=100, help="M new psets per call")
    opts = parser.parse_args()
    k = opts.extensions or (10 if opts.quick else 50)
    m = opts.new
    reps = opts.reps or (1 if opts.quick else 3)
    header(f"bench_extend: a study extended {k} times by {m} new psets each", opts.quick)
    print(f"# median of {reps} repetitions, each in a fresh process and temp dir")
    args = {"k": k, "m": m}
    res = repeat(
        reps,
        {impl.name: (lambda impl=impl: run_child(impl, BODY, args)) for impl in (OURS, REF)},
    )
    summ = {name: summarise(results) for name, results in res.items()}
    rows = []
    for name in ("ours", "0.16"):
        s = summ[name]
        rows.append(
            [
                name,
                fmt_s(s["first"]),
                fmt_s(s["last"]),
                f"{s['last'] / s['first']:.2f}",
                fmt_s(s["first5"]),
                fmt_s(s["last5"]),
                f"{s['last5'] / s['first5']:.2f}",
                fmt_s(s["total"]),
                int(s["rows"]),
            ]
        )
    print()
    print(
        table(
            [
                "impl",
                "first",
                "last",
                "last/first",
                "first 5 (mean)",
                "last 5 (mean)",
                "last5/first5",
                "total",
                "rows",
            ],
            rows,
        )
    )
    o, r = summ["ours"], summ["0.16"]
    print()
    print(f"total ours/0.16: {o['total'] / r['total']:.3f}x; expected rows {k * m}")
    for name, s in summ.items():
        if s["rows"] != k * m:
            print(f"WARNING: {name} has {s['rows']} rows, expected {k * m}")
    log("")
    # Verdict on the means of the first and last 5 calls: a single ~20 ms
    # call is at the mercy of the shared machine, and call 1 alone also pays
    # one-time costs of the process (first imports, platform probing).
    target(
        o["last5"] <= 2 * o["first5"],
        f"extend: our last call <= 2x our first (mean of calls {k - 4}..{k} vs 1..5)",
        f"{o['last5'] / o['first5']:.2f} ({fmt_s(o['last5'])} vs {fmt_s(o['first5'])}; "
        f"single calls {k} vs 1: {o['last'] / o['first']:.2f}, "
        f"{fmt_s(o['last'])} vs {fmt_s(o['first'])})",
    )
    target(
        o["total"] <= 0.05 * r["total"],
        f"extend: our total <= 0.05x psweep 0.16 ({k} x {m})",
        f"{o['total'] / r['total']:.3f}x ({fmt_s(o['total'])} vs {fmt_s(r['total'])})",
    )


if __name__ == "__main__":
    main()
