"""The psweep command and psweep 0.16's console scripts."""

from __future__ import annotations

from psweep.cli._main import main
from psweep.cli._scripts import checkdir_main, db2json_main, db2table_main, pull_main, push_main

__all__ = [
    "checkdir_main",
    "db2json_main",
    "db2table_main",
    "main",
    "pull_main",
    "push_main",
]
