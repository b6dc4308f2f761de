"""prep_batch: pset folders from templates, and job scripts for batch systems."""

from __future__ import annotations

from psweep.batch._discovery import gather_calc_templates
from psweep.batch._gather import df_gather
from psweep.batch._machines import Machine, gather_machines
from psweep.batch._prep import prep_batch
from psweep.batch._templates import FileTemplate

__all__ = [
    "FileTemplate",
    "Machine",
    "df_gather",
    "gather_calc_templates",
    "gather_machines",
    "prep_batch",
]
