"""Read the tasks' result.json files back: amplitude after t_end per damping."""

import json
import os

import psweep as ps


def load(pset_dir):
    with open(os.path.join(pset_dir, "result.json")) as fd:
        return json.load(fd)


if __name__ == "__main__":
    df, missing = ps.df_gather(ps.df_read("calc/results.pk"), load)
    print(df.pivot_table(index="damping", columns="omega", values="amplitude").round(3).head())
    print(f"tasks without output: {len(missing)}")
