#!/usr/bin/env python3
"""Functions as parameters, and a study that grows a new parameter.

The study: integrate f(x) over [0, upper] with the trapezoidal rule, for a
few functions f and upper bounds. The functions themselves (np.sin, np.cos,
np.exp) are pset values; their hash is their module and name, so re-running
the script recognises them. A function defined in the script works too, but
the database then pickles a reference to __main__.<name>, which only a
script defining it can read back; prefer functions of an importable module.

The second part extends the study, as one does after a first look: more
upper bounds, and a new parameter `n` (grid points) that the first psets did
not have. With skip_dups=True only the new psets run: an old pset lacks `n`,
and a missing value hashes like a missing key, so `{"f": np.sin, "upper":
1.0}` and the same with `n` missing are one pset.

Run it in any folder:

    python vary_function_param.py
"""

import numpy as np

import psweep as ps


def integrate(pset):
    x = np.linspace(0.0, pset["upper"], pset.get("n", 101))
    y = pset["f"](x)
    trapezoids = (y[1:] + y[:-1]) / 2 * np.diff(x)
    return {"integral_": float(trapezoids.sum()), "f_name": pset["f"].__name__}


first = ps.pgrid(ps.plist("f", [np.sin, np.cos, np.exp]), ps.plist("upper", [1.0, 2.0]))
df = ps.run(integrate, first, skip_dups=True)
print(f"first run: {len(df)} rows")

# Later: a larger upper bound for every function, and a finer grid for sin.
more = ps.pgrid(ps.plist("f", [np.sin, np.cos, np.exp]), ps.plist("upper", [1.0, 2.0, 3.0]))
finer = ps.pgrid(ps.plist("f", [np.sin]), ps.plist("upper", [3.0]), ps.plist("n", [1001]))
df = ps.run(integrate, more + finer, skip_dups=True)
print(f"after extending: {len(df)} rows, {df['_run_id'].nunique()} runs")
print(df[["f_name", "upper", "n", "integral_"]].to_string(index=False))

# The parameters of each row, functions included, as they were run.
params = ps.df_extract_params(df)
print(params[-1])
