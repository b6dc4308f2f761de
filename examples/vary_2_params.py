#!/usr/bin/env python3
"""Getting started: scan two parameters on a grid with ps.run().

The study: how large is the error of the trapezoidal rule when integrating
sin(k*x) over [0, pi/2], for several numbers of intervals `n` and
frequencies `k`?

Run it in any folder:

    python vary_2_params.py

It writes the database calc/results.pk (one row per parameter set) and
prints a few of its columns. Run it again and the database grows.
"""

import numpy as np

import psweep as ps


def trapezoid_error(pset):
    """The worker function: one pset (a dict) in, a dict of results out.

    psweep adds the pset's own values as columns, so only the results need
    to be returned. Names ending in "_" mark results by convention; it
    keeps them apart from parameters when reading the database later.
    """
    n, k = pset["n"], pset["k"]
    x = np.linspace(0, np.pi / 2, n + 1)
    y = np.sin(k * x)
    approx = float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)))
    exact = (1 - np.cos(k * np.pi / 2)) / k
    return {"integral_": approx, "error_": float(abs(approx - exact))}


# Each ps.plist is a list of one-key dicts: [{"n": 4}, {"n": 8}, ...].
# ps.pgrid combines them into every combination: 4 x 2 = 8 psets.
params = ps.pgrid(
    ps.plist("n", [4, 8, 16, 32]),
    ps.plist("k", [1, 3]),
)

# Runs trapezoid_error on each pset and appends one row per pset to
# calc/results.pk. The returned DataFrame is the whole database.
df = ps.run(trapezoid_error, params)

# Plain pandas from here on. Besides the parameters and results, every row
# has bookkeeping columns starting with "_" (_run_id, _pset_id, ...).
print(df[["n", "k", "error_"]].to_string(index=False))

# The error should drop by about 4x each time n doubles (2nd order method).
print()
print(df.pivot_table(index="n", columns="k", values="error_"))
