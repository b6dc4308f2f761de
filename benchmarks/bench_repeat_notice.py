"""The notice of a repeated study on a big database (issue 20, item 21).

A run without ``skip_dups`` says once if psets of it already had successful
rows. It looks at the frame the run's final fold wrote (no extra read): one
``isin`` of the run's hashes over the hash column, then only the matching
rows. Measured in a fresh process on a database of N rows (default 1M,
built untimed by one run of N trivial psets), extended by M = 100 psets:

* new:     100 new psets (nothing repeated: the usual case);
* repeat:  100 psets that all have rows (the notice fires);

each as the time of the check itself (``warn_repeated``, timed in place),
of the final fold (``_finish``) and of the whole run. No target: the figure
says what the notice costs (O(N) in C, O(M) in Python).

    python benchmarks/bench_repeat_notice.py [--quick] [--n N]

--quick: N = 100k. Takes ~2-4 min at 1M (~2 GB of RAM).
"""

from __future__ import annotations

from _common import OURS, base_parser, fmt_s, header, log, run_child, table

BODY = """

import sys
run_module = sys.modules["psweep.run"]  # ps.run, the function, hides the module
from _funcs import double

n, m = ARGS["n"], ARGS["m"]
ps.run(double, [{"a": i} for i in range(n)], calc_dir=CALC, progress=False)
times = {}

def timed(name, func):
    def wrapper(*args, **kwargs):
        t0 = now()
        try:
            return func(*args, **kwargs)
        finally:
            times[name] = times.get(name, 0.0) + now() - t0
    return wrapper

run_module.warn_repeated = timed("check", run_module.warn_repeated)
run_module._finish = timed("fold", run_module._finish)
start = ARGS["first"]
t0 = now()
df = ps.run(double, [{"a": a} for a in range(start, start + m)], calc_dir=CALC, progress=False)
emit(run=now() - t0, rows=len(df), **times)
"""


def main() -> None:
    parser = base_parser(__doc__)
    parser.add_argument("--n", type=int, default=None, help="rows in the database (default 1M)")
    args = parser.parse_args()
    n = args.n or (100_000 if args.quick else 1_000_000)
    m = 100
    header(f"notice of a repeated study, {n} stored rows, {m} psets per run", args.quick)
    rows = []
    for case, first in (("new", n), ("repeat", 0)):
        log(f"{case}: building {n} rows, then a run of {m} psets ...")
        out = run_child(OURS, BODY, {"n": n, "m": m, "first": first})
        share = out["check"] / out["run"]
        rows.append([case, fmt_s(out["check"]), fmt_s(out["fold"]), fmt_s(out["run"]), f"{100 * share:.1f} %"])
    print(table(["case", "check", "final fold", "whole run", "check/run"], rows))


if __name__ == "__main__":
    main()
