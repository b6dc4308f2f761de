"""psweep ui and psweep report on a big database: the first view, a table page, RSS.

Builds one database of N rows (default 1M) written with ``ps.df_write``: 3
varied parameters (a: 100, b: 100, c: 10 values, a 100k grid) repeated by
N/100k runs (so lines show mean and spread over repeats), results ``y_``,
``z_`` and ``label_``, one run's c=9 psets failed (two kinds of error). Then:

* in-process: reading the study once (``Study``: the file plus journals;
  the figure the target sets apart), then each view's data as the app's
  callbacks compute it: runs, the results page's first table page, the
  default plot, failures, coverage; a table page further on, a filter, a
  sort, a filter plus sort; the report's HTML.
* through the server: a real ``psweep ui`` process, each view's callbacks
  requested over HTTP as the browser does (``/_dash-update-component``),
  wall time per request; the server's RSS against the frame's
  ``memory_usage(deep=True)`` (the frame held once).

Targets: [the first view in under 2 s apart from reading the file], [a
table page, filter or sort in under 1 s], [the server holds the frame once].

    python benchmarks/bench_ui.py [--quick] [--rows N]

--quick: N = 100k.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np
import pandas as pd
from _common import base_parser, fmt_s, header, log, table, target

import psweep as ps


def build(calc: str, n: int) -> None:
    grid = 100_000
    reps = max(1, n // grid)
    i = np.arange(reps * grid)
    rng = np.random.default_rng(0)
    a, b, c = (i % grid) // 1000 * 0.01, (i % 1000) // 10, i % 10
    run = i // grid
    failed = (run == 0) & (c == 9)
    exc = np.where(failed, np.where(b % 2 == 0, "Traceback ...\nValueError: b is even",
                                    "Traceback ...\nZeroDivisionError: division by zero"), None)
    run_ids = np.array([f"run-{k:04d}-0000-0000-000000000000" for k in range(reps)])
    times = pd.Timestamp("2026-01-01") + pd.to_timedelta(i, unit="ms")
    df = pd.DataFrame({
        "a": a, "b": b, "c": c,
        "y_": np.where(failed, np.nan, np.sin(a) * b + rng.normal(0, 0.1, len(i))),
        "z_": np.where(failed, np.nan, c * a),
        "label_": np.where(b % 3 == 0, "low", "high"),
        "_run_id": run_ids[run], "_run_seq": run, "_pset_seq": i,
        "_pset_id": [f"p{k:012d}" for k in i], "_pset_hash": [f"h{k % grid:08d}" for k in i],
        "_calc_dir": "calc", "_time_utc": times, "_exec_host": "host", "_pset_runtime": 0.001,
        "_failed": failed, "_exc_txt": exc,
    }, index=times)
    ps.df_write(os.path.join(calc, "results.pk"), df)


def in_process(calc: str) -> list[list[str]]:
    from psweep.ui import Study
    from psweep.ui._pages import runs_records
    from psweep.ui._plots import default_choice, result_figure
    from psweep.ui._summaries import coverage, failure_groups
    from psweep.ui._tables import TablePager, table_columns

    import plotly.express  # noqa: F401  # as the server does at start

    rows = []

    def timed(name, func):
        t0 = time.perf_counter()
        out = func()
        rows.append([name, fmt_s(time.perf_counter() - t0)])
        return out, time.perf_counter() - t0

    study, t_read = timed("read the study (file + journals)", lambda: Study(calc))
    df = study.df
    pager = TablePager(table_columns(df, study.params(), study.results()))
    first = 0.0
    steps = [
        ("runs view", lambda: runs_records(study)),
        ("columns: parameters, varied, results", lambda: (study.varied(), study.numeric_results())),
        ("results: first table page", lambda: pager.page(df, 1, "", [], 0, 25)),
        ("results: default plot (line, mean+std)", lambda: result_figure(df, default_choice(
            study.varied(), study.numeric_results(), study.nunique()))),
        ("failures view (groups)", lambda: failure_groups(study.failed(), study.params())),
        ("coverage view (100k grid)", lambda: coverage(df, study.varied())),
    ]
    for name, func in steps:
        first += timed(name, func)[1]
    rows.append(["= first view of each, beyond the read", fmt_s(first)])
    target(first < 2, "ui first views beyond reading the file < 2 s", fmt_s(first))
    worst = 0.0
    for name, args in [
        ("table page 2000", ("", [], 2000)),
        ("filter {b} > 50", ("{b} > 50", [], 0)),
        ("sort by y_ desc (filtered)", ("{b} > 50", [{"column_id": "y_", "direction": "desc"}], 0)),
        ("next page of that", ("{b} > 50", [{"column_id": "y_", "direction": "desc"}], 1)),
        ("filter {label_} contains low", ("{label_} contains low", [], 0)),
        ("sort a asc, y_ desc (all rows)", ("", [{"column_id": "a", "direction": "asc"},
                                                 {"column_id": "y_", "direction": "desc"}], 0)),
    ]:
        worst = max(worst, timed(name, lambda a=args: pager.page(df, 1, a[0], a[1], a[2], 25))[1])
    target(worst < 1, "ui table page, filter or sort < 1 s", fmt_s(worst))
    timed("report HTML (not written)", lambda: ps.report(calc, ""))
    rows.append(["(read the file once, set apart above)", fmt_s(t_read)])
    return rows


def _post(url: str, output: str, outputs, inputs, state=()) -> float:
    body = {"output": output, "outputs": outputs, "inputs": inputs, "state": list(state),
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
    req = urllib.request.Request(url + "_dash-update-component", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as answer:
        assert answer.status == 200, answer.status
        answer.read()
    return time.perf_counter() - t0


def _inp(ident: str, prop: str, value) -> dict:
    return {"id": ident, "property": prop, "value": value}


def through_server(calc: str) -> tuple[list[list[str]], float]:
    proc = subprocess.Popen([sys.executable, "-m", "psweep", "ui", calc, "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        t0 = time.perf_counter()
        url = None
        for line in proc.stdout:
            if " at http://" in line:
                url = line.split(" at ", 1)[1].split()[0]
                break
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                time.sleep(0.1)
        rows = [["server start (import, read, listen)", fmt_s(time.perf_counter() - t0)]]
        version = _inp("version", "data", 1)
        page = lambda path: _post(url, "..page.children...shown-error.data..",  # noqa: E731
                                  [{"id": "page", "property": "children"},
                                   {"id": "shown-error", "property": "data"}],
                                  [_inp("url", "pathname", path), version], [_inp("shown-error", "data", False)])
        tab = lambda q, s, p: _post(url, "..results-table.data...results-table.page_count..",  # noqa: E731
                                    [{"id": "results-table", "property": "data"},
                                     {"id": "results-table", "property": "page_count"}],
                                    [_inp("results-table", "page_current", p),
                                     _inp("results-table", "page_size", 25),
                                     _inp("results-table", "sort_by", s), _inp("results-table", "filter_query", q),
                                     version])
        plot = lambda: _post(url, "plot.figure", {"id": "plot", "property": "figure"},  # noqa: E731
                             [_inp("plot-y", "value", "y_"), _inp("plot-x", "value", "a"),
                              _inp("plot-color", "value", "c"), _inp("plot-facet", "value", None),
                              _inp("plot-kind", "value", "line"), version])
        for name, func in [
            ("GET /runs page + runs table", lambda: page("/runs") + _post(
                url, "runs-table.data", {"id": "runs-table", "property": "data"}, [version])),
            ("results page layout", lambda: page("/results")),
            ("results table first page", lambda: tab("", [], 0)),
            ("results plot (a, colour c)", plot),
            ("failures page", lambda: page("/failures")),
            ("coverage page", lambda: page("/coverage")),
            ("table: filter {b} > 50", lambda: tab("{b} > 50", [], 0)),
            ("table: sort y_ desc", lambda: tab("{b} > 50", [{"column_id": "y_", "direction": "desc"}], 0)),
            ("table: page 3000", lambda: tab("", [], 3000)),
        ]:
            rows.append([name + " (HTTP)", fmt_s(func())])
        with open(f"/proc/{proc.pid}/status") as fd:
            rss = next(int(line.split()[1]) for line in fd if line.startswith("VmRSS")) / 1024
        return rows, rss
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def main() -> None:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--build", metavar="CALC", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:  # in a child: this process's read cache must not hold the frame
        build(args.build, args.rows)
        return
    n = args.rows or (100_000 if args.quick else 1_000_000)
    header(f"bench_ui: psweep ui / report on {n} rows", args.quick)
    folder = tempfile.mkdtemp(prefix="psweep-bench-ui-")
    try:
        calc = os.path.join(folder, "calc")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, os.path.abspath(__file__), "--build", calc, "--rows", str(n)], check=True)
        size = os.path.getsize(os.path.join(calc, "results.pk")) / 1e6
        log(f"built {n} rows in {time.perf_counter() - t0:.1f} s; {size:.0f} MB")
        rows = in_process(calc)
        print(table(["in one process", "time"], rows), flush=True)
        frame_mb = ps.df_read(calc).memory_usage(deep=True).sum() / 2**20
        http_rows, rss = through_server(calc)
        print(table(["through a psweep ui server", "time"], http_rows), flush=True)
        print(f"server RSS {rss:.0f} MB; the frame's memory_usage(deep=True) {frame_mb:.0f} MB "
              f"(RSS - frame = {rss - frame_mb:.0f} MB: interpreter, Dash, plotly, caches)")
        target(rss < frame_mb + 300, "ui server holds the frame once (RSS < frame + 300 MB)",
               f"{rss:.0f} MB vs frame {frame_mb:.0f} MB")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
