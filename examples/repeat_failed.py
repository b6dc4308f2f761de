#!/usr/bin/env python3
"""Run the failed psets of a study again, after fixing the function.

The study: Newton's method for the square root of `x`, started at `x0`. A
start at 0 divides by zero, so those psets fail. A failing pset does not
stop the study: its row has _failed=True and the traceback in _exc_txt.

Then the function is fixed and the same study is run again with
skip_dups=True: psets that succeeded are skipped, the failed ones run
again. A function may also catch its own errors and report them by
returning _failed=True and _exc_txt (psweep 0.16's "safe_func" pattern);
such a row counts as failed too.

Run it in any folder:

    python repeat_failed.py
"""

import traceback
import warnings

import psweep as ps


def newton_sqrt(pset):
    """Ten Newton steps for sqrt(x) from x0; x0=0 divides by zero."""
    x, guess = pset["x"], pset["x0"]
    for _ in range(10):
        guess = guess - (guess**2 - x) / (2 * guess)
    return {"root_": guess}


def newton_sqrt_fixed(pset):
    """The same, but a start at 0 is moved to 1."""
    return newton_sqrt({**pset, "x0": pset["x0"] or 1.0})


def newton_sqrt_reporting(pset):
    """Catches its own error and says so in the returned dict."""
    try:
        return newton_sqrt(pset)
    except ZeroDivisionError:
        return {"_failed": True, "_exc_txt": traceback.format_exc()}


if __name__ == "__main__":
    params = ps.pgrid(ps.plist("x", [2.0, 9.0]), ps.plist("x0", [0.0, 1.0, 5.0]))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "psweep: 2 of 6 psets failed; ..."
        df = ps.run(newton_sqrt, params)
    failed = df[df._failed]
    print(f"first run: {len(failed)} of {len(df)} failed")
    print(failed[["x", "x0"]].to_string(index=False))
    print(failed._exc_txt.iloc[0].splitlines()[-1])

    # Fixed function, same params: only the failed psets run.
    df = ps.run(newton_sqrt_fixed, params, skip_dups=True)
    last = df[df._run_id == df._run_id.iloc[-1]]
    print(f"second run: {len(last)} psets ran again, {int(last._failed.sum())} failed")
    print(last[["x", "x0", "root_"]].to_string(index=False))

    # A function that reports its failures instead of raising.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reported = ps.run(newton_sqrt_reporting, params, calc_dir="reporting")
    print(f"reported failures: {int(reported._failed.sum())}")
