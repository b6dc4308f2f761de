#!/usr/bin/env python3
"""Label parts of a study with a constant `study` column.

The study: convergence of the series sum_{k=1}^{n} 1/k^2 -> pi^2/6.
We first run a coarse scan of `n`, later a fine one, both into the same
database. A column that is constant within each part, here `study`, makes
it easy to select one part afterwards: ``df[df.study == "fine"]``.

The label is an ordinary parameter (it is part of the pset, so the
function may use it or ignore it), added with a one-value plist.

Run it in any folder:

    python vary_1_param_study_column.py
"""

import math

import numpy as np

import psweep as ps


def partial_sum(pset):
    """Sum of the first n terms of the Basel series and its error."""
    k = np.arange(1, pset["n"] + 1)
    value = float(np.sum(1.0 / k**2))
    return {"sum_": value, "error_": math.pi**2 / 6 - value}


# First part: a coarse scan.
coarse = ps.pgrid(
    ps.plist("study", ["coarse"]),
    ps.plist("n", [10, 100, 1000]),
)
ps.run(partial_sum, coarse)

# Later: a finer scan between the coarse points. Also "fine" psets that
# happen to have an n of the coarse scan are new psets (the study value
# differs), so nothing is mixed up.
fine = ps.pgrid(
    ps.plist("study", ["fine"]),
    ps.plist("n", [10, 20, 50, 100, 200, 500, 1000]),
)
df = ps.run(partial_sum, fine)

print(df.groupby("study").size().rename("rows per study"))
print()
print(df[df.study == "fine"][["n", "error_"]].to_string(index=False))

# error ~ 1/n for this series: n * error approaches 1.
sel = df[df.study == "fine"]
print("\nn * error:", (sel["n"] * sel["error_"]).round(3).tolist())
