"""Run a study on a Dask cluster, here a LocalCluster of worker processes.

Rows stream back to this driver process as psets finish and are recorded
right away; the workers never touch the database. The same code runs on a
real cluster: only the line that makes the cluster changes (see
dask_slurm.py).

Run: python dask_local.py   (needs the dask extra: pip install -e ".[dask]" in the clone)
"""

import os
import time

from dask.distributed import Client, LocalCluster

import psweep as ps


@ps.sweep(calc_dir="calc", capture_logs="db")
def integrate(pset):
    """Midpoint rule for the integral of x**p over [0, 1] (exactly 1/(p+1))."""
    n, p = pset["n"], pset["p"]
    h = 1.0 / n
    approx = sum(((i + 0.5) * h) ** p for i in range(n)) * h
    print(f"worker {os.getpid()} did n={n}, p={p}")
    time.sleep(0.05)  # pretend this takes a while
    return {"approx": approx, "error": abs(approx - 1 / (p + 1))}


if __name__ == "__main__":
    params = ps.pgrid(ps.plist("n", [10, 100, 1000]), ps.plist("p", [1, 2, 3, 4]))
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            df = integrate.over(params, executor=client)
    print(df[["n", "p", "approx", "error", "_exec_host"]].to_string(index=False))
    print("what psets printed is in the _logs column, e.g.:", df._logs.iloc[0].strip())
    print("rows:", len(df), "workers used:", df._logs.str.extract(r"worker (\d+)")[0].nunique())
