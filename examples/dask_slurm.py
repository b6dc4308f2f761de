"""Run a study on a SLURM cluster with dask-jobqueue (not run in the test suite).

Run this driver on the cluster's login node (or in a small job of its own):
it submits SLURM jobs that start Dask workers, sends psets to them and
records each row in calc/results.pk as soon as it comes back. A killed
driver loses at most the psets in flight; re-run with skip_dups=True.

Needs: pip install -e ".[dask]" dask-jobqueue (in the clone)

Notes on sizing
---------------
* ``cores``/``memory`` describe ONE SLURM job; ``processes`` splits it into
  that many Dask workers (one pset at a time each).
* ``walltime`` is per job. Dask workers die with their job; psets running
  then are lost (rows of finished psets are safe). Keep single psets well
  below the walltime, and let ``adapt`` start new jobs as old ones end:
  ``worker_extra_args=["--lifetime", "55m", "--lifetime-stagger", "4m"]``
  retires workers gracefully before a 1 h walltime.
* ``cluster.adapt(minimum_jobs=..., maximum_jobs=...)`` grows and shrinks
  the number of jobs with the work left; ``cluster.scale(jobs=N)`` fixes it.
* The driver must be able to import the function: keep it at module level
  in a .py file (as here). Workers need the same Python environment
  (``job_script_prologue=["source ~/venvs/study/bin/activate"]``).
"""

import psweep as ps


@ps.sweep(calc_dir="calc", skip_dups=True, capture_logs="file")
def simulate(pset):
    # Replace with the real work, e.g. subprocess.run(["my_solver", ...]).
    return {"result": pset["a"] * pset["b"]}


def main():
    from dask.distributed import Client
    from dask_jobqueue import SLURMCluster

    cluster = SLURMCluster(
        queue="compute",  # your partition
        account="my_project",  # your account, if the site needs one
        cores=8,
        processes=8,
        memory="16GB",
        walltime="01:00:00",
        job_script_prologue=["source ~/venvs/study/bin/activate"],
        worker_extra_args=["--lifetime", "55m", "--lifetime-stagger", "4m"],
    )
    cluster.adapt(minimum_jobs=1, maximum_jobs=10)
    print(cluster.job_script())
    params = ps.pgrid(ps.plist("a", range(100)), ps.plist("b", [1.0, 2.0, 3.0]))
    with Client(cluster) as client:
        df = simulate.over(params, executor=client)
    print(df[~df._failed][["a", "b", "result"]].describe())


if __name__ == "__main__":
    main()
