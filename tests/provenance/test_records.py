"""Run records: the one reader and writer of ``<calc_dir>/backup_script/<_run_id>.json``."""

from __future__ import annotations

import json
import os

import psweep as ps
import workers
from psweep.provenance import run_code_hashes
from psweep.provenance._records import (
    end_provenance,
    read_record,
    read_records,
    record_path,
    write_provenance,
)


def test_read_records_skips_damaged_foreign_and_other_database_files():
    """Damaged, non-record and other-database files are skipped; old records without a database kept."""
    path = write_provenance("calc", "run-a", None, planned=1, database="results.pk")
    end_provenance(path, "finished", rows=1, failed=0)
    other = write_provenance("calc", "run-b", None, planned=2, database="other.pk")
    end_provenance(other, "finished", rows=2, failed=0)
    folder = os.path.dirname(path)
    with open(os.path.join(folder, "damaged.json"), "w") as fd:
        fd.write('{"_run_id": "run-c", "planned"')
    with open(os.path.join(folder, "a-list.json"), "w") as fd:
        json.dump([1, 2], fd)
    with open(os.path.join(folder, "old.json"), "w") as fd:
        json.dump({"code_hash": None}, fd)
    with open(os.path.join(folder, ".hidden.json"), "w") as fd:
        json.dump({"_run_id": "hidden"}, fd)

    records = read_records("calc", "results.pk")

    assert sorted(records) == ["old", "run-a"]
    assert records["run-a"].info["end"]["state"] == "finished"
    assert records["run-a"].locked is False
    assert list(read_records("calc", "other.pk")) == ["old", "run-b"]
    assert read_record(os.path.join(folder, "damaged.json")) is None
    assert read_record(os.path.join(folder, "a-list.json")) is None
    assert read_record(os.path.join(folder, "missing.json")) is None


def test_record_is_locked_while_its_run_lives_and_free_after_its_end():
    """A record reads as locked between write_provenance and end_provenance, and free after."""
    path = write_provenance("calc", "run-live", None, planned=3, database="results.pk")
    try:
        live = read_records("calc", "results.pk")["run-live"]
        assert live.locked is True
        assert "end" not in live.info
    finally:
        end_provenance(path, "stopped", rows=0, failed=0, error="RuntimeError: test")
    ended = read_records("calc", "results.pk")["run-live"]
    assert ended.locked is False
    assert ended.info["end"]["state"] == "stopped"
    assert path == record_path("calc", "run-live")


def test_code_hashes_and_run_status_read_the_same_records():
    """run_code_hashes and ps.runs read the records a real run wrote; a damaged record gives no hash."""
    df = ps.run(workers.square, ps.plist("x", [1, 2]))
    run_id = df["_run_id"].iloc[0]
    recorded = read_records("calc", "results.pk")[run_id].info["code_hash"]
    assert recorded is not None
    assert run_code_hashes("calc", [run_id, "no-such-run"]) == {run_id: recorded, "no-such-run": None}
    assert ps.runs("calc")["state"].tolist() == ["finished"]
    with open(record_path("calc", run_id), "w") as fd:
        fd.write("{not json")
    assert run_code_hashes("calc", [run_id]) == {run_id: None}
    assert read_records("calc", "results.pk") == {}
    assert ps.runs("calc")["state"].tolist() == ["unknown"]
