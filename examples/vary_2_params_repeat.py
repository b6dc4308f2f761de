#!/usr/bin/env python3
"""Repeat a study and tell the runs apart by their _run_id.

The study: a Monte Carlo estimate of the volume of the unit ball in `dim`
dimensions from `n` random points. The estimate is random, so we run the
same parameters twice and compare the runs.

Each call of ps.run() (or f.over()) is one run with its own _run_id (a
UUID) and _run_seq (0, 1, 2, ... per database). All runs end up in the same
database, so comparing them is plain pandas.

Run it in any folder:

    python vary_2_params_repeat.py
"""

import math

import numpy as np

import psweep as ps


def ball_volume(pset):
    """Estimate the volume of the unit ball from random points in [-1, 1]^dim."""
    dim, n = pset["dim"], pset["n"]
    # No fixed seed: every run draws new points.
    rng = np.random.default_rng()
    points = rng.uniform(-1, 1, size=(n, dim))
    inside = np.count_nonzero(np.sum(points**2, axis=1) <= 1)
    volume = 2**dim * inside / n
    exact = math.pi ** (dim / 2) / math.gamma(dim / 2 + 1)
    return {"volume_": volume, "rel_error_": abs(volume - exact) / exact}


params = ps.pgrid(
    ps.plist("dim", [2, 3, 5]),
    ps.plist("n", [1_000, 100_000]),
)

# Two runs of the same 6 psets: 12 rows in the database. skip_dups=False
# says that repeating them is intended (without it, psweep notes the repeat).
ps.run(ball_volume, params)
df = ps.run(ball_volume, params, skip_dups=False)  # repeated on purpose: no notice

print(f"{len(df)} rows from {df['_run_id'].nunique()} runs")

# One group per run; sort=False keeps the runs in the order they happened.
for run_id, run in df.groupby("_run_id", sort=False):
    print(f"\nrun {run_id} (_run_seq={run['_run_seq'].iloc[0]})")
    print(run[["dim", "n", "volume_", "rel_error_"]].to_string(index=False))

# Only the latest run: the last row's _run_id.
last = df[df["_run_id"] == df["_run_id"].iloc[-1]]
print(f"\nlatest run has {len(last)} rows")

# Run-to-run scatter of the estimate per pset, the reason we repeated.
print()
print(df.groupby(["dim", "n"])["volume_"].std().rename("std over runs"))
