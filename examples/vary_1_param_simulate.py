#!/usr/bin/env python3
"""Check new parameters with a dry run before spending compute on them.

The study: the time a ball takes to fall from height `h` (with air drag,
integrated in small time steps). A first, real run covers a few heights.
Before extending the study we want to see what the new psets would look
like in the database: simulate.

``f.simulate(params)`` (or ``ps.run(..., simulate=True)``) copies the
database to ``calc.simulate/`` and runs there *without calling the
function*: the new rows get all parameter and bookkeeping columns, but
their result columns stay empty (NaN). The real ``calc/`` is not touched.

Run it in any folder:

    python vary_1_param_simulate.py
"""

import psweep as ps


@ps.sweep(calc_dir="calc")
def fall_time(pset):
    """Seconds until a ball dropped from height h hits the ground."""
    g, drag, dt = 9.81, 0.02, 1e-3
    height, speed, t = pset["h"], 0.0, 0.0
    while height > 0:
        speed += (g - drag * speed**2) * dt
        height -= speed * dt
        t += dt
    return {"t_fall_": t}


# The real run: 3 heights.
df = fall_time.over(ps.plist("h", [1.0, 10.0, 100.0]))
print("real database:")
print(df[["h", "t_fall_"]].to_string(index=False))

# The planned extension, simulated. fall_time is not called, so this is
# instant no matter how expensive the function is.
more = ps.plist("h", [200.0, 500.0, 1000.0])
sim = fall_time.simulate(more)
print("\nsimulated database in calc.simulate/ (new rows have no results):")
print(sim[["h", "t_fall_", "_pset_seq"]].to_string(index=False))

# The real database still has only the 3 real rows.
real = ps.df_read("calc/results.pk")
print(f"\ncalc/results.pk: {len(real)} rows, calc.simulate/results.pk: {len(sim)} rows")

# Happy with what we saw? Then run for real: fall_time.over(more).
# calc.simulate/ is replaced by each new simulate call; delete it any time.
