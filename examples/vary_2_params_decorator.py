#!/usr/bin/env python3
"""The same study as vary_2_params.py, written with the @ps.sweep decorator.

The decorator turns the function into a study you can run with
``.over(params)``, while calling it with one pset still just calls the
function: handy to try out a single case, or to use it in a unit test.

Run it in any folder:

    python vary_2_params_decorator.py
"""

import os

import numpy as np

import psweep as ps


# Options of the decorator are the keyword arguments of ps.run().
# Decorating writes nothing to disk; only .over() does.
@ps.sweep(calc_dir="calc")
def trapezoid_error(pset):
    """Trapezoidal rule error of int_0^(pi/2) sin(k x) dx with n intervals."""
    n, k = pset["n"], pset["k"]
    x = np.linspace(0, np.pi / 2, n + 1)
    y = np.sin(k * x)
    approx = float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)))
    exact = (1 - np.cos(k * np.pi / 2)) / k
    return {"integral_": approx, "error_": float(abs(approx - exact))}


# A plain call: no database, no bookkeeping, just the function's result.
print("one case:", trapezoid_error({"n": 4, "k": 1}))
print("calc/ exists after the plain call:", os.path.exists("calc"))

params = ps.pgrid(
    ps.plist("n", [4, 8, 16, 32]),
    ps.plist("k", [1, 3]),
)

# The study: one row per pset in calc/results.pk. The decorator also keeps
# the source of this script in calc/backup_script/<_run_id>.py, so you can
# always see which code produced which rows.
df = trapezoid_error.over(params)

print(df[["n", "k", "error_"]].to_string(index=False))
run_id = df["_run_id"].iloc[-1]
print("source of this run:", os.path.join("calc", "backup_script", f"{run_id}.py"))
