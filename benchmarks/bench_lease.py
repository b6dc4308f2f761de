"""What the several-hosts machinery costs one host: a hold of the database lock, with and without the lease.

A run holds the database lock at its start, at its end and at each fold
of a long run (every few seconds), never per row. This prints the time of
one take-and-release of the lock (file lock alone, and file lock plus the
lease file that excludes other hosts), and of creating and removing a
journal (with its sign of life), in a fresh folder of the current disk.

    python benchmarks/bench_lease.py [--reps N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from psweep.store._journal import Journal  # noqa: E402
from psweep.store._lock import DatabaseLock  # noqa: E402


def per_call_us(func, reps: int) -> float:
    """Median over 5 rounds of the time of one call of `func`, in microseconds."""
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(reps):
            func()
        rounds.append((time.perf_counter() - start) / reps * 1e6)
    return sorted(rounds)[2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=500)
    reps = parser.parse_args().reps
    folder = tempfile.mkdtemp(prefix="psweep-bench-lease-", dir=os.getcwd())
    try:
        db = os.path.join(folder, "results.pk")
        lease = os.path.join(folder, ".psweep", "results.pk.lease")
        plain = DatabaseLock(db + ".lock", db)
        leased = DatabaseLock(db + ".lock", db, lease)
        journal_dir = os.path.join(folder, "journal")

        def hold(lock: DatabaseLock):
            def once() -> None:
                lock.acquire(10)
                lock.release()

            return once

        count = iter(range(10**9))

        def journal() -> None:
            Journal(os.path.join(journal_dir, f"{next(count)}.jnl")).close(remove=True)

        print(f"# bench_lease: {reps} x 5 rounds, median, in {os.path.basename(os.getcwd())}/")
        print(f"lock hold, file lock only:        {per_call_us(hold(plain), reps):8.1f} us")
        print(f"lock hold, file lock + lease:     {per_call_us(hold(leased), reps):8.1f} us")
        print(f"journal open + close (with sign): {per_call_us(journal, reps):8.1f} us")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
