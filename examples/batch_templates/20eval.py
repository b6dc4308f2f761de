"""Step 3: read each job's result.json back into the database frame.

Jobs that have not run (or not finished) have no result.json: df_gather
lists them instead of failing, so you see what is still to do.
"""

import json
import os

import psweep as ps


def load(pset_dir):
    with open(os.path.join(pset_dir, "result.json")) as fd:
        return {"pi_estimate": json.load(fd)["pi_estimate"]}


if __name__ == "__main__":
    df, missing = ps.df_gather(ps.df_read("calc/results.pk"), load)
    print(df.groupby("n_samples")["pi_estimate"].agg(["mean", "std", "count"]))
    print(f"jobs without output: {len(missing)}")
    if len(missing):
        print(missing[["n_samples", "seed", "_pset_id"]].to_string(index=False))
    ps.df_write("calc/results_eval.pk", df)
