#!/usr/bin/env python3
"""First scan: the resonance curve of a driven, damped oscillator.

Scan the driving frequency `omega` at a fixed damping `gamma`. The next
script, 20input.py, extends this study with a scan of `gamma`; see
README.md in this folder.

This script is kept self-contained on purpose: with backup_script=__file__
it is copied to calc/backup_script/<_run_id>.py, and that copy alone is
enough to see (and redo) what this run computed.
"""

import math

import psweep as ps


def amplitude(pset):
    """Steady-state amplitude of x'' + gamma x' + omega0^2 x = cos(omega t)."""
    omega0, omega, gamma = pset["omega0"], pset["omega"], pset["gamma"]
    amp = 1 / math.sqrt((omega0**2 - omega**2) ** 2 + (gamma * omega) ** 2)
    return {"amp_": amp}


# All psets of the study have all three parameters, so rows of both
# scripts sit in one table with the same columns.
params = ps.pgrid(
    ps.plist("omega0", [1.0]),
    ps.plist("omega", [0.5, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5]),
    ps.plist("gamma", [0.2]),
)

# backup=True: before this run changes an existing database, copy all of
# calc/ to a sibling calc_<last _time_utc>. On the very first run there is
# nothing to back up yet.
df = ps.run(amplitude, params, backup=True, backup_script=__file__)
print(df[["omega", "gamma", "amp_"]].to_string(index=False))
