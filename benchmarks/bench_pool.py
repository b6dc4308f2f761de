"""Serial vs poolsize=2, and peak memory of a large study.

(a) N trivial psets, serial vs poolsize=2 [target: ours pool <= 1.5x ours
    serial]; psweep 0.16 for context.
(b) P psets sleeping 5 ms each, serial vs poolsize=2 [target: ours speedup
    >= 1.8x]; psweep 0.16 for context.
(c) peak RSS of an L-pset trivial study, serial and poolsize=2 (ours; psweep
    0.16 serial for context): the driver's VmHWM and the largest worker's
    max RSS (RUSAGE_CHILDREN). No target; one repetition.

Worker functions live in ``benchmarks/_funcs.py`` (importable by workers).

    python benchmarks/bench_pool.py [--quick] [--reps R] [--skip-rss]

Default N=20000, P=400, L=100000; --quick: N=2000, P=60, L=10000.
"""

from __future__ import annotations

from _common import (
    OURS,
    REF,
    base_parser,
    fmt_s,
    header,
    log,
    med,
    repeat,
    run_child,
    table,
    target,
)

BODY = """
from _funcs import double, sleepy
n, sleep, pool = ARGS["n"], ARGS["sleep"], ARGS["pool"]
if sleep:
    func, params = sleepy, [{"a": i, "sleep": sleep} for i in range(n)]
else:
    func, params = double, [{"a": i} for i in range(n)]
rss_before = peak_rss_mb()
t0 = now()
df = ps.run(func, params, calc_dir=CALC, poolsize=pool)
seconds = now() - t0
emit(seconds=seconds, rows=len(df), rss_before_mb=rss_before)
"""


def measure(label: str, n: int, sleep: float, reps: int, impls) -> dict:
    """serial and pool=2 for each impl, interleaved."""
    log(label)
    meas = {}
    for impl in impls:
        for pool in (None, 2):
            key = f"{impl.name} {'serial' if pool is None else 'pool=2'}"
            args = {"n": n, "sleep": sleep, "pool": pool}
            meas[key] = lambda impl=impl, args=args: run_child(impl, BODY, args)
    res = repeat(reps, meas)
    for key, results in res.items():
        for r in results:
            if r["rows"] != n:
                print(f"WARNING: {label} {key}: {r['rows']} rows, expected {n}")
    return res


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--skip-rss", action="store_true", help="skip part (c)")
    opts = parser.parse_args()
    n_triv = 2000 if opts.quick else 20000
    n_sleep = 60 if opts.quick else 400
    n_rss = 10000 if opts.quick else 100000
    reps = opts.reps or (1 if opts.quick else 3)
    header("bench_pool: serial vs poolsize=2; peak RSS of a large study", opts.quick)
    print(f"# median of {reps} repetitions, each in a fresh process and temp dir")

    a = measure(f"(a) {n_triv} trivial psets", n_triv, 0.0, reps, (OURS, REF))
    b = measure(f"(b) {n_sleep} psets x 5 ms sleep", n_sleep, 0.005, reps, (OURS, REF))
    rows = []
    for label, res in ((f"(a) {n_triv} trivial", a), (f"(b) {n_sleep} x sleep 5 ms", b)):
        for impl in ("ours", "0.16"):
            serial, pool = med(res[f"{impl} serial"], "seconds"), med(res[f"{impl} pool=2"], "seconds")
            rows.append([label, impl, fmt_s(serial), fmt_s(pool), f"{pool / serial:.2f}", f"{serial / pool:.2f}x"])
    print()
    print(table(["workload", "impl", "serial", "pool=2", "pool/serial", "speedup"], rows))
    a_ser, a_pool = med(a["ours serial"], "seconds"), med(a["ours pool=2"], "seconds")
    b_ser, b_pool = med(b["ours serial"], "seconds"), med(b["ours pool=2"], "seconds")
    print()
    print(
        f"ours/0.16 with pool=2: trivial {a_pool / med(a['0.16 pool=2'], 'seconds'):.2f}x, "
        f"sleep {b_pool / med(b['0.16 pool=2'], 'seconds'):.2f}x"
    )
    print(f"ideal serial time of (b): {n_sleep} x 5 ms = {fmt_s(n_sleep * 0.005)}")

    if not opts.skip_rss:
        log(f"(c) peak RSS, {n_rss} trivial psets")
        rss = {}
        for name, impl, pool in (
            ("ours serial", OURS, None),
            ("ours pool=2", OURS, 2),
            ("0.16 serial", REF, None),
        ):
            log(f"  {name}")
            rss[name] = run_child(impl, BODY, {"n": n_rss, "sleep": 0.0, "pool": pool})
        rss_rows = [
            [
                name,
                fmt_s(r["seconds"]),
                f"{r['rss_before_mb']:.0f}",
                f"{r['peak_rss_mb']:.0f}",
                f"{r['peak_rss_mb'] - r['rss_before_mb']:.0f}",
                f"{r['children_peak_rss_mb']:.0f}" if "pool" in name else "-",
                r["rows"],
            ]
            for name, r in rss.items()
        ]
        print()
        print(f"(c) peak RSS of a {n_rss}-pset trivial study, MB (one repetition):")
        print(
            table(
                [
                    "run",
                    "time",
                    "driver after import+params",
                    "driver peak",
                    "driver growth",
                    "largest worker peak",
                    "rows",
                ],
                rss_rows,
            )
        )
    print()
    target(
        a_pool <= 1.5 * a_ser,
        f"pool: ours {n_triv} trivial psets pool=2 <= 1.5x serial",
        f"{a_pool / a_ser:.2f}x ({fmt_s(a_pool)} vs {fmt_s(a_ser)})",
    )
    target(
        b_ser / b_pool >= 1.8,
        f"pool: ours {n_sleep} x 5 ms psets speedup with pool=2 >= 1.8x",
        f"{b_ser / b_pool:.2f}x ({fmt_s(b_ser)} -> {fmt_s(b_pool)})",
    )


if __name__ == "__main__":
    main()
