"""Command-line driver used by tests to run studies in real OS processes.

python drivers.py CALC_DIR START COUNT [--sleep S] [--poolsize N] [--go FILE]
                  [--log FILE [--hold FILE [--hold-from N]]]

Runs ``square``-like psets x = START .. START+COUNT-1 on CALC_DIR. With
``--go FILE`` it prints "ready", then waits (at most 60 s) until FILE
exists, so several drivers start together. It prints "started" once the
run begins. With ``--log FILE`` each finished pset appends its ``_pset_id``
to FILE; with ``--hold FILE`` too, the psets after the first ``--hold-from``
(5) wait (at most 60 s) until FILE exists, so a test decides when the run
may end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import psweep as ps  # noqa: E402
import workers  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("calc_dir")
    parser.add_argument("start", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--poolsize", type=int, default=None)
    parser.add_argument("--go", default=None)
    parser.add_argument("--spawn", action="store_true")
    parser.add_argument("--start-method", default=None, help="multiprocessing start method")
    parser.add_argument("--log", default=None, help="log _pset_id of finished psets here")
    parser.add_argument("--runs", type=int, default=1, help="run this many runs in a row")
    parser.add_argument("--hold", default=None,
                        help="with --log: psets after the first --hold-from wait until this file exists")
    parser.add_argument("--hold-from", type=int, default=5, help="how many psets run before --hold")
    parser.add_argument("--dask", type=int, default=0, help="run on a LocalCluster of N workers")
    parser.add_argument("--basename", default="results.pk", help="database_basename")
    args = parser.parse_args()
    if args.spawn:
        import multiprocessing

        multiprocessing.set_start_method("spawn")
    if args.start_method:
        import multiprocessing

        multiprocessing.set_start_method(args.start_method)
    print("ready", flush=True)
    if args.go:
        deadline = time.monotonic() + 60
        while not os.path.exists(args.go) and time.monotonic() < deadline:
            time.sleep(0.005)
    func = workers.slow_square
    extra = {}
    if args.log:
        func = workers.logged_square
        extra = {"log": os.path.abspath(args.log)}
    if args.log and args.hold:
        func = workers.held_logged_square
        extra["hold"] = os.path.abspath(args.hold)
        extra["hold_from"] = args.start + args.hold_from
    options = {"calc_dir": args.calc_dir, "poolsize": args.poolsize, "database_basename": args.basename}
    if args.dask:
        from dask.distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=args.dask, threads_per_worker=1, processes=True, dashboard_address=None
        )
        options = {"calc_dir": args.calc_dir, "executor": Client(cluster), "database_basename": args.basename}
    print("started", flush=True)
    for _ in range(args.runs):
        params = [
            {"x": x, "sleep": args.sleep, **extra}
            for x in range(args.start, args.start + args.count)
        ]
        ps.run(func, params, **options)
    print("done", flush=True)


if __name__ == "__main__":
    main()
