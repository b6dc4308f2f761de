"""What a run leaves beside its rows: backups, source, run records and run status."""

from __future__ import annotations

from psweep.provenance._backup import backup_calc_dir
from psweep.provenance._codehash import code_hash
from psweep.provenance._git import git_state
from psweep.provenance._records import end_provenance, read_record, record_path, run_code_hashes, write_provenance
from psweep.provenance._source import read_source, source_path, write_source
from psweep.provenance._notebook import kernel_shell, notebook_source
from psweep.provenance._status import group_runs, run_table, runs

__all__ = [
    "backup_calc_dir",
    "code_hash",
    "end_provenance",
    "git_state",
    "group_runs",
    "kernel_shell",
    "notebook_source",
    "read_record",
    "read_source",
    "record_path",
    "run_code_hashes",
    "run_table",
    "runs",
    "source_path",
    "write_provenance",
    "write_source",
]
