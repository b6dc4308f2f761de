#!/usr/bin/env python3
"""Keep what each pset prints: in the database, in a file per pset, or both.

The study: a small solver that prints its progress, and calls an external
program (echo) whose output is captured too. capture_logs="db" puts the
text in the _logs column, "file" into calc/<_pset_id>/logs.txt, and
"db+file" does both. Output of failing psets is kept as well.

Run it in any folder:

    python capture_logs.py
"""

import os
import subprocess

import psweep as ps


def solve(pset):
    """Bisection for the root of x**3 - c, printing each tenth step."""
    lo, hi = 0.0, max(1.0, pset["c"])
    for step in range(40):
        mid = (lo + hi) / 2
        if mid**3 > pset["c"]:
            hi = mid
        else:
            lo = mid
        if step % 10 == 0:
            print(f"step {step}: [{lo:.6f}, {hi:.6f}]")
    subprocess.run(["echo", f"external tool: c={pset['c']} done"], check=True)
    return {"root_": (lo + hi) / 2}


if __name__ == "__main__":
    params = ps.plist("c", [2.0, 27.0])
    df = ps.run(solve, params, capture_logs="db+file")
    for _, row in df.iterrows():
        print(f"--- c={row['c']}: logs from the database")
        print(row["_logs"], end="")
        path = os.path.join(row["_calc_dir"], row["_pset_id"], "logs.txt")
        with open(path) as fd:
            print(f"--- the same in {path}: {fd.read() == row['_logs']}")
