"""Step 1: write a pset folder with a job for each pset, and the scripts that submit them.

Run ``python 10input.py``, then ``sh calc/run_local.sh`` (here) or, on a
SLURM cluster, ``sh calc/run_cluster.sh``. Each job writes
``calc/<_pset_id>/result.json``; ``20eval.py`` reads them back.
"""

import psweep as ps

if __name__ == "__main__":
    params = ps.pgrid(ps.plist("n_samples", [1_000, 10_000]), ps.plist("seed", [1, 2, 3]))
    df = ps.prep_batch(params)
    print(df[["n_samples", "seed", "_run_seq", "_pset_seq", "_pset_id"]].to_string(index=False))
