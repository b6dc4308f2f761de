"""Step 2: extend the study with more samples per estimate.

The grid keeps the old values, so ``skip_dups=True`` prepares only the new
psets; ``calc/run_local.sh`` now has the old jobs commented out and submits
the new ones only. In a real study you would edit 10input.py instead (and
track it with git); a second file keeps this example repeatable.
"""

import psweep as ps

if __name__ == "__main__":
    params = ps.pgrid(ps.plist("n_samples", [1_000, 10_000, 100_000]), ps.plist("seed", [1, 2, 3]))
    df = ps.prep_batch(params, skip_dups=True, backup=True)
    print(f"{len(df)} psets prepared, {(df._run_seq == df._run_seq.max()).sum()} of them new")
