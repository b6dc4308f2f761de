"""prep_batch: pset folders from templates, and job scripts for batch systems.

- ``_prep``: :func:`prep_batch`, one run whose function is ``_writer``'s
- ``_writer``: what runs per pset: fill the templates into its folder
- ``_discovery``: the calc templates on disk; ``_machines``: machine folders
- ``_templates``: one template file, read once; ``_filling``: placeholders
- ``_jobscripts``: submit scripts and job arrays; ``_gather``: :func:`df_gather`
- ``_optional``: jinja2 and pyyaml, imported when first needed
"""

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
