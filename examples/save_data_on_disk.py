#!/usr/bin/env python3
"""Let each pset write files of its own, and find them again via the database.

The study: the logistic map x -> r x (1 - x) for several growth rates `r`.
Each pset saves its whole trajectory (too big for a database cell) as a
text file, and stores only a short summary in the database.

Every pset gets a fresh _pset_id (a UUID). The folder
``<_calc_dir>/<_pset_id>/`` belongs to that pset alone, so psets running
at the same time never overwrite each other's files, and the database row
tells you where its files are.

The psets run in 2 local processes (poolsize=2). Worker processes import
this script again, hence the function is defined at module level and the
study itself sits under ``if __name__ == "__main__":``.

Run it in any folder:

    python save_data_on_disk.py
"""

import os

import numpy as np

import psweep as ps

N_STEPS = 1000


def logistic_map(pset):
    """Iterate the map, save the trajectory, return a summary."""
    r, x = pset["r"], pset["x0"]
    traj = np.empty(N_STEPS)
    for i in range(N_STEPS):
        x = r * x * (1 - x)
        traj[i] = x
    # pset["_calc_dir"] is the calc_dir given to ps.run(), here "calc".
    folder = os.path.join(pset["_calc_dir"], pset["_pset_id"])
    os.makedirs(folder, exist_ok=True)
    np.savetxt(os.path.join(folder, "trajectory.txt"), traj)
    # Number of distinct values the orbit visits at the end: 1 = fixed point,
    # 2, 4, ... = periodic, many = chaos.
    n_distinct = len(np.unique(np.round(traj[-100:], 6)))
    return {"x_last_": float(traj[-1]), "n_distinct_": n_distinct}


def main():
    params = ps.pgrid(
        ps.plist("r", [2.8, 3.2, 3.5, 3.9]),
        ps.plist("x0", [0.2]),
    )
    ps.run(logistic_map, params, calc_dir="calc", poolsize=2)

    # Post-processing, e.g. in a separate script or a notebook later on:
    # read the database and load each pset's file by its _pset_id.
    df = ps.df_read("calc/results.pk")
    print(df[["r", "n_distinct_", "_pset_id"]].to_string(index=False))
    print()
    # (iterrows, not itertuples: namedtuples drop fields starting with "_")
    for _, row in df.iterrows():
        path = os.path.join(row["_calc_dir"], row["_pset_id"], "trajectory.txt")
        traj = np.loadtxt(path)
        print(
            f"r={row['r']}: {len(traj)} steps read from {path}, "
            f"mean of last 100 = {traj[-100:].mean():.4f}"
        )


if __name__ == "__main__":
    main()
