"""skip_dups on a large study: S new psets against S stored, half overlapping.

Setup (untimed, per repetition, fresh process and temp dir): a database of
S stored rows (``a`` = 0..S-1), copied into three calc dirs. Then, timed:

* skip:  run(S new psets, a = S/2..3S/2-1, skip_dups=True)  -> S/2 run
* plain: run(the S/2 non-overlapping psets only, no skip_dups) -> S/2 run
* alldup: run(the S stored psets again, skip_dups=True)     -> 0 run

dedup overhead = skip - plain (hashing the extra S/2 psets, reading the
database's hashes, filtering); alldup is the pure planning cost of a rerun
where everything is done. Target: [ours well under a second for the dedup
part].

The func returns ``{"y_": ...}``: psweep 0.16 treats every column not
ending in "_" (and not starting with "_") as a pset column when it re-hashes
the stored rows, so with a result named "y" its skip_dups skips nothing.

    python benchmarks/bench_skip_dups.py [--quick] [--reps R] [--stored S]

Default S=20000; --quick: S=2000.
"""

from __future__ import annotations

from _common import (
    OURS,
    REF,
    base_parser,
    fmt_s,
    header,
    med,
    repeat,
    run_child,
    table,
    target,
)

BODY = """
import shutil
from _funcs import double_ as double
S = ARGS["s"]
half = S // 2
stored = [{"a": i} for i in range(S)]
new = [{"a": i} for i in range(half, half + S)]
new_only = [{"a": i} for i in range(S, half + S)]
ps.run(double, stored, calc_dir=CALC)
dirs = {k: CALC + "_" + k for k in ("skip", "plain", "alldup")}
for d in dirs.values():
    shutil.copytree(CALC, d, symlinks=True)
out = {}

def timed(key, params, skip):
    before = len(ps.df_read(os.path.join(dirs[key], DB)))
    t0 = now()
    ps.run(double, params, calc_dir=dirs[key], skip_dups=skip)
    out[key] = now() - t0
    out[key + "_added"] = len(ps.df_read(os.path.join(dirs[key], DB))) - before

timed("skip", new, True)
timed("plain", new_only, False)
timed("alldup", stored, True)
emit(**out)
"""


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--stored", type=int, default=None, help="S stored (and S new) psets")
    opts = parser.parse_args()
    s = opts.stored or (2000 if opts.quick else 20000)
    reps = opts.reps or (1 if opts.quick else 3)
    header(f"bench_skip_dups: {s} new psets vs {s} stored, half overlapping", opts.quick)
    print(f"# median of {reps} repetitions, each in a fresh process and temp dir")
    res = repeat(
        reps,
        {impl.name: (lambda impl=impl: run_child(impl, BODY, {"s": s})) for impl in (OURS, REF)},
    )
    rows = []
    for name in ("ours", "0.16"):
        r = res[name]
        skip, plain, alldup = med(r, "skip"), med(r, "plain"), med(r, "alldup")
        rows.append(
            [
                name,
                fmt_s(skip),
                fmt_s(plain),
                fmt_s(skip - plain),
                fmt_s(alldup),
                "/".join(str(x[k]) for x in r[:1] for k in ("skip_added", "plain_added", "alldup_added")),
            ]
        )
        for x in r:
            if (x["skip_added"], x["plain_added"], x["alldup_added"]) != (s // 2, s - s // 2, 0):
                print(
                    f"WARNING: {name}: rows added {x['skip_added']}/{x['plain_added']}/"
                    f"{x['alldup_added']}, expected {s // 2}/{s - s // 2}/0"
                )
    print()
    print(
        table(
            [
                "impl",
                f"skip_dups run ({s} new)",
                f"plain run ({s // 2})",
                "dedup overhead",
                f"all-dup rerun ({s})",
                "rows added skip/plain/alldup",
            ],
            rows,
        )
    )
    o, f = res["ours"], res["0.16"]
    dedup_o = med(o, "skip") - med(o, "plain")
    dedup_r = med(f, "skip") - med(f, "plain")
    print()
    print(
        f"ours/0.16: skip_dups run {med(o, 'skip') / med(f, 'skip'):.2f}x, all-dup rerun "
        f"{med(o, 'alldup') / med(f, 'alldup'):.2f}x, dedup overhead "
        f"{fmt_s(dedup_o)} vs {fmt_s(dedup_r)}"
    )
    target(
        dedup_o < 0.5 and med(o, "alldup") < 1.0,
        f"skip_dups: ours dedup well under a second ({s} vs {s})",
        f"overhead {fmt_s(dedup_o)}, all-dup rerun {fmt_s(med(o, 'alldup'))}",
    )


if __name__ == "__main__":
    main()
