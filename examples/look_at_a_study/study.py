#!/usr/bin/env python3
"""A small study to look at with `psweep ui` and `psweep report`.

A noisy relaxation x' = -rate * x, integrated with explicit Euler steps of
size dt: we want the final value's error over the step size, the rate and
the noise, with three repeats (seeds) per point. Large steps make Euler
unstable, and strong noise swamps a coarse decay: those psets fail, and
the Failures view groups them by error. A second
run refines dt for one noise level only, so the Coverage view shows the
combinations still missing. Each pset writes its trajectory (text) and a
small plot (SVG) into calc/<_pset_id>/, which the view of a pset shows.

Run it, then look:

    python study.py
    psweep ui calc          # a web view at http://127.0.0.1:<port>/
    psweep report calc      # calc/report.html, one file
"""

import math
import os
import random

import psweep as ps


# The decorator keeps this file's source with each run (calc/backup_script/),
# which the view of a pset shows, with the diff between two runs.
@ps.sweep
def relax(pset):
    rate, dt, noise = pset["rate"], pset["dt"], pset["noise"]
    if rate * dt > 2:
        raise ValueError(f"Euler is unstable for rate*dt={rate * dt:g} > 2")
    if noise > 0.5 and rate * dt > 1:
        raise FloatingPointError(f"noise={noise} swamps the decay for rate*dt={rate * dt:g} > 1")
    rng = random.Random(pset["seed"])
    x, xs = 1.0, [1.0]
    for _ in range(int(1 / dt)):
        x += -rate * x * dt + noise * math.sqrt(dt) * rng.gauss(0, 0.1)
        xs.append(x)
    exact = math.exp(-rate)
    folder = os.path.join(pset["_calc_dir"], pset["_pset_id"])
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "trajectory.txt"), "w") as fd:
        fd.write("\n".join(f"{v:.6f}" for v in xs) + "\n")
    points = " ".join(f"{i * 200 / len(xs):.1f},{100 - 80 * v:.1f}" for i, v in enumerate(xs))
    with open(os.path.join(folder, "trajectory.svg"), "w") as fd:
        fd.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="110">'
                 f'<polyline fill="none" stroke="#1f77b4" points="{points}"/></svg>\n')
    return {"x_end_": x, "error_": abs(x - exact), "steps_": len(xs) - 1}


grid = ps.pgrid(
    ps.plist("rate", [0.5, 1.0, 2.0, 4.0, 8.0]),
    ps.plist("dt", [0.4, 0.2, 0.1, 0.05]),
    ps.plist("noise", [0.0, 0.3, 0.6]),
    ps.plist("seed", [1, 2, 3]),
)
relax.over(grid)

# Refine the step for the noise-free psets only: the rest of dt=0.01 stays missing.
finer = ps.pgrid(
    ps.plist("rate", [0.5, 1.0, 2.0, 4.0, 8.0]),
    ps.plist("dt", [0.01]),
    ps.plist("noise", [0.0]),
    ps.plist("seed", [1, 2, 3]),
)
df = relax.over(finer)
print(f"{len(df)} rows, {int(df['_failed'].sum())} failed; look with: psweep ui calc")
