"""One run of N trivial psets, serial, fresh calc dir: ours vs psweep 0.16.

Figures: run time and time per pset for each N, ratio ours/0.16, the marginal
cost per pset at the largest N, (t(N) - t(1)) / (N - 1) [target: ours <= 0.2x
0.16's, with the fixed cost t(1) <= 0.16's], linearity of ours (per-pset time at the
largest N vs the smallest, and a least-squares fit t = fixed + N * marginal),
and the peak RSS of the largest run for both. Also measured: a run of one pset
(a run's fixed cost: locks, files, the first frame and pickle of the process,
the fsync'ed write), and, at each N, the ratio ours/0.16 of the time beyond that
fixed cost, (t(N) - t(1)) / (t_0.16(N) - t_0.16(1)): what the further psets cost.
Repetitions interleave (ours, then 0.16, in fresh processes), so at the largest
N each repetition is a back-to-back pair: the median of the pairs' ratios is
printed too (``--reps 15`` gives 15 pairs).

    python benchmarks/bench_run_scaling.py [--quick] [--reps R] [--profile]

``--profile`` adds a cProfile of our largest run (top functions by own time
and by cumulative time).
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
    med,
    repeat,
    run_child,
    table,
    target,
)

BODY = """
from _funcs import double
params = [{"a": i} for i in range(ARGS["n"])]
rss_before = peak_rss_mb()
t0 = now()
df = ps.run(double, params, calc_dir=CALC)
seconds = now() - t0
emit(seconds=seconds, rows=len(df), rss_before_mb=rss_before)
"""

PROFILE_BODY = """
import cProfile, io, pstats
from _funcs import double
params = [{"a": i} for i in range(ARGS["n"])]
prof = cProfile.Profile()
prof.enable()
ps.run(double, params, calc_dir=CALC)
prof.disable()
out = io.StringIO()
stats = pstats.Stats(prof, stream=out)
stats.sort_stats("tottime").print_stats(ARGS["top"])
stats.sort_stats("cumulative").print_stats(ARGS["top"])
emit(text=out.getvalue())
"""


def fit_linear(ns: list[int], ts: list[float]) -> tuple[float, float]:
    """Least squares t = a + b * n; returns (a, b)."""
    k = len(ns)
    mn, mt = sum(ns) / k, sum(ts) / k
    var = sum((n - mn) ** 2 for n in ns)
    b = sum((n - mn) * (t - mt) for n, t in zip(ns, ts)) / var
    return mt - b * mn, b


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--profile", action="store_true", help="cProfile our largest run")
    opts = parser.parse_args()
    ns = [200, 1000] if opts.quick else [1000, 5000, 20000]
    reps = opts.reps or (2 if opts.quick else 5)
    header("bench_run_scaling: one serial run of N trivial psets, fresh calc dir", opts.quick)
    print(f"# median of {reps} repetitions, each in a fresh process and temp dir")

    res: dict[int, dict[str, list]] = {}
    for n in [1, *ns]:
        log(f"N = {n}")
        res[n] = repeat(
            reps,
            {impl.name: (lambda impl=impl, n=n: run_child(impl, BODY, {"n": n})) for impl in (OURS, REF)},
        )
        for name, results in res[n].items():
            for r in results:
                if r["rows"] != n:
                    print(f"WARNING: {name} N={n}: database has {r['rows']} rows, expected {n}")

    one = {name: med(res[1][name], "seconds") for name in ("ours", "0.16")}
    rows = []
    for n in ns:
        t_ours, t_ref = med(res[n]["ours"], "seconds"), med(res[n]["0.16"], "seconds")
        beyond = (t_ours - one["ours"]) / (t_ref - one["0.16"])
        rows.append(
            [
                n,
                fmt_s(t_ours),
                fmt_s(t_ref),
                f"{t_ours / n * 1e6:.1f}",
                f"{t_ref / n * 1e6:.1f}",
                f"{t_ours / t_ref:.2f}x",
                f"{beyond:.2f}x",
            ]
        )
    print()
    print(
        table(
            ["N", "ours", "0.16", "ours us/pset", "0.16 us/pset", "ours/0.16", "beyond 1-pset run"],
            rows,
        )
    )
    print()
    print(
        f"a run of 1 pset (the fixed cost of a run): ours {fmt_s(one['ours'])}, "
        f"0.16 {fmt_s(one['0.16'])} ({one['ours'] / one['0.16']:.2f}x)"
    )
    # Each repetition runs ours, then 0.16, back to back: a pair shares the
    # machine's state of the moment, which the ratio of the medians above
    # mixes across repetitions when the machine's speed drifts.
    big = ns[-1]
    pairs = sorted(o["seconds"] / r["seconds"] for o, r in zip(res[big]["ours"], res[big]["0.16"]))
    print(
        f"N={big}, ratio ours/0.16 within each of the {len(pairs)} back-to-back pairs: median "
        f"{statistics.median(pairs):.3f}x, range {pairs[0]:.2f}x-{pairs[-1]:.2f}x"
    )

    small = ns[0]
    t_big_o = med(res[big]["ours"], "seconds")
    per_small = med(res[small]["ours"], "seconds") / small
    per_big = t_big_o / big
    fixed, marginal = fit_linear(ns, [med(res[n]["ours"], "seconds") for n in ns])
    fixed_r, marginal_r = fit_linear(ns, [med(res[n]["0.16"], "seconds") for n in ns])
    print()
    print(
        f"fit t = fixed + N * marginal: ours fixed {fmt_s(fixed)}, marginal "
        f"{marginal * 1e6:.1f} us/pset; 0.16 fixed {fmt_s(fixed_r)}, marginal "
        f"{marginal_r * 1e6:.1f} us/pset (marginal ratio {marginal / marginal_r:.2f}x)"
    )
    print(
        f"ours per-pset time at N={big} / at N={small}: {per_big / per_small:.2f} "
        f"(<= ~1 means no superlinear cost; < 1 is the fixed cost amortised)"
    )
    print()
    rss_rows = []
    for name in ("ours", "0.16"):
        rss_rows.append(
            [
                name,
                f"{med(res[big][name], 'rss_before_mb'):.0f}",
                f"{med(res[big][name], 'peak_rss_mb'):.0f}",
                f"{med(res[big][name], 'peak_rss_mb') - med(res[big][name], 'rss_before_mb'):.0f}",
            ]
        )
    print(f"peak RSS (VmHWM) of the N={big} run, MB:")
    print(table(["impl", "after import+params", "peak", "growth in run"], rss_rows))
    print()
    # The target as issue 17 re-judged it: the marginal cost per pset,
    # (t(N) - t(1)) / (N - 1), at most 0.2x psweep 0.16's at the largest N,
    # with a run's fixed cost t(1) at most psweep 0.16's own.
    marg_o = (t_big_o - one["ours"]) / (big - 1)
    marg_r = (med(res[big]["0.16"], "seconds") - one["0.16"]) / (big - 1)
    print(
        f"marginal cost per pset at N={big}, (t(N) - t(1)) / (N - 1): ours {marg_o * 1e6:.1f} us, "
        f"0.16 {marg_r * 1e6:.1f} us ({marg_o / marg_r:.3f}x)"
    )
    target(
        marg_o <= 0.2 * marg_r,
        f"marginal cost per pset at N={big}: ours <= 0.2x psweep 0.16",
        f"{marg_o / marg_r:.3f}x ({marg_o * 1e6:.1f} vs {marg_r * 1e6:.1f} us/pset)",
    )
    target(
        one["ours"] <= one["0.16"],
        "a run's fixed cost t(1): ours <= psweep 0.16",
        f"{fmt_s(one['ours'])} vs {fmt_s(one['0.16'])}",
    )
    target(
        per_big <= 1.2 * per_small,
        f"ours linear in N (per-pset time N={big} <= 1.2x N={small})",
        f"{per_big / per_small:.2f}",
    )

    if opts.profile:
        log("profiling")
        prof = run_child(OURS, PROFILE_BODY, {"n": big, "top": 25})
        print()
        print(f"cProfile of our serial run of N={big} (in-process; profiling inflates times):")
        print(prof["text"])


if __name__ == "__main__":
    main()
