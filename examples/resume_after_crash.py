"""Resume a study that died half way: re-run the same script, only what is missing runs.

A night-long study can be killed by a wall-time limit, an out-of-memory kill or
a power cut. psweep records every pset's row the moment it finishes, so
nothing that finished is lost. With ``skip_dups=True`` the re-run skips every
pset that already has a successful row and runs the rest, including psets
that failed.

To make this demo self-contained, the script first runs the study in a child
process that kills itself (SIGKILL, no clean-up at all) half way through,
then resumes it. In real life you would simply run the script again.

Run: python resume_after_crash.py
"""

import math
import os
import signal
import subprocess
import sys

import psweep as ps


@ps.sweep(calc_dir="calc", skip_dups=True)
def relax(pset):
    """A stand-in for an expensive calculation."""
    if os.environ.get("DEMO_CRASH_AT") == str(pset["temperature"]):
        os.kill(os.getpid(), signal.SIGKILL)  # the "power cut"
    if pset["temperature"] == 450 and pset["pressure"] == 2.0:
        raise RuntimeError("solver did not converge")  # a bad pset: a row, not a crash
    energy = -pset["pressure"] * math.exp(-300 / pset["temperature"])
    return {"energy": energy}


params = ps.pgrid(
    ps.plist("temperature", [300, 350, 400, 450, 500, 550, 600]),
    ps.plist("pressure", [1.0, 2.0]),
)

if __name__ == "__main__":
    if sys.argv[1:] == ["--study"]:
        relax.over(params)
        sys.exit(0)

    print("first attempt: dies at temperature 500")
    first = subprocess.run(
        [sys.executable, __file__, "--study"],
        env={**os.environ, "DEMO_CRASH_AT": "500"},
    )
    print(f"  exit code {first.returncode} (killed)")
    df = ps.df_read("calc/results.pk")
    print(f"  rows that survived the kill: {len(df)}, failed among them: {df._failed.sum()}")
    # ps.runs (or `psweep runs` in a shell) tells a killed run from a finished one.
    status = ps.runs("calc").iloc[-1]
    print(f"  ps.runs says: {status.state}, {status.done} of {status.planned} psets done")

    print("second attempt: the same study, resumed")
    df = relax.over(params)
    last_run = df[df._run_id == df._run_id.iloc[-1]]
    print(f"  ran {len(last_run)} psets: the missing ones and the one that failed")
    done = df[~df._failed]
    print(f"  successful psets now: {done._pset_hash.nunique()} of {len(params)}")
    print(ps.runs("calc")[["state", "planned", "done", "failed"]].to_string(index=False))
    print(done.pivot_table(index="temperature", columns="pressure", values="energy"))
