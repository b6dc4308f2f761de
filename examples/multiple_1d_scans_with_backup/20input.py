#!/usr/bin/env python3
"""Second scan: how the height of the resonance peak depends on damping.

Run after 10input.py. Scan `gamma` at the resonance frequency
omega = omega0 and append the rows to the same database. Since
calc/results.pk exists by now, backup=True first copies calc/ to
calc_<last _time_utc>, the state 10input.py left behind.
"""

import math

import psweep as ps


def amplitude(pset):
    """Steady-state amplitude of x'' + gamma x' + omega0^2 x = cos(omega t)."""
    omega0, omega, gamma = pset["omega0"], pset["omega"], pset["gamma"]
    amp = 1 / math.sqrt((omega0**2 - omega**2) ** 2 + (gamma * omega) ** 2)
    return {"amp_": amp}


params = ps.pgrid(
    ps.plist("omega0", [1.0]),
    ps.plist("omega", [1.0]),
    ps.plist("gamma", [0.05, 0.1, 0.2, 0.5, 1.0]),
)

# gamma=0.2 at omega=1.0 was already computed by 10input.py. skip_dups=True
# skips psets whose content hash (_pset_hash) already has a successful row,
# so only the 4 new psets run.
df = ps.run(amplitude, params, backup=True, backup_script=__file__, skip_dups=True)

# Each script's run has its own _run_id; the scripts that made them are in
# calc/backup_script/<_run_id>.py.
for run_id, run in df.groupby("_run_id", sort=False):
    print(f"run {run_id}: {len(run)} rows, script calc/backup_script/{run_id}.py")

# Peak height is 1 / (gamma * omega0): halving the damping doubles it.
at_resonance = df[df["omega"] == 1.0].sort_values("gamma")
print(at_resonance[["gamma", "amp_"]].to_string(index=False))
