"""Run status of runs on other hosts, whose locks this host may not see: the heartbeat decides."""

from __future__ import annotations

import json
import os
import time

import pandas as pd
import pytest

import psweep as ps
from psweep.cli._runs_table import runs_text
from psweep.provenance._records import record_path
from psweep.store import LIVENESS_ENV


def _record_of_another_host(calc_dir: str, run_id: str, age: float) -> None:
    """A run record as a driver on another host leaves it: no end marker, lock not seen here."""
    path = record_path(calc_dir, run_id)
    info = {
        "_run_id": run_id,
        "host": "another-host",
        "pid": 1,
        "start_utc": "2026-01-01T00:00:00",
        "planned": 10,
        "database": "results.pk",
    }
    with open(path, "w") as fobj:
        json.dump(info, fobj)
    then = time.time() - age
    os.utime(path, (then, then))


@pytest.mark.parametrize(
    ("age", "state", "shown"),
    [(1, "running", "running"), (40, "running", "no news for 40 s"), (700, "killed", "killed")],
)
def test_run_of_another_host_is_running_until_its_heartbeat_is_older_than_the_timeout(
    tmp_path, monkeypatch, age, state, shown
):
    """Another host's run: running while its record is fresh, 'no news' after missed beats, then killed."""
    monkeypatch.setenv(LIVENESS_ENV, "600")
    calc = str(tmp_path / "calc")
    ps.run(lambda pset: {"b": 1}, ps.plist("a", [1]), calc_dir=calc)
    _record_of_another_host(calc, "other-run", age)
    table = ps.runs(calc).set_index("_run_id")
    assert table.loc["other-run", "state"] == state
    no_news = table.loc["other-run", "no_news"]
    assert pd.isna(no_news) if shown != "no news for 40 s" else 35 < no_news.total_seconds() < 60
    line = [row for row in runs_text(ps.runs(calc)).splitlines() if "other-run" in row][0]
    assert shown.split(" for ")[0] in line and (shown != "no news for 40 s" or "no news for 4" in line)
