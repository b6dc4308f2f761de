"""Worker functions for the benchmarks.

They live in an importable module (not in a child's ``__main__``) so that
process pools can pickle them by reference. The benchmark children put this
folder on ``sys.path`` and ``PYTHONPATH``; nothing here imports psweep, so the
same functions serve our psweep and psweep 0.16.
"""

import time


def double(pset):
    """Trivial work: the smallest function a study can have."""
    return {"y": pset["a"] * 2}


def sleepy(pset):
    """Sleep ``pset["sleep"]`` seconds: work that does not need the CPU."""
    time.sleep(pset["sleep"])
    return {"y": pset["a"] * 2}


def double_(pset):
    """Like double, but the result key ends with "_" (psweep 0.16's convention
    for result columns; 0.16's skip_dups hashes every other column, so a
    result named "y" makes every stored row look different)."""
    return {"y_": pset["a"] * 2}
