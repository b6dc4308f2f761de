"""Looking at a study: ``psweep ui`` (a local web view) and ``psweep report`` (one HTML file).

Both only read the calc dir, through the store's read-only path. Their
web framework and plotting library (Dash, Plotly) come with the ``ui``
extra and are imported only when a view or a report is made.
"""

from __future__ import annotations

from psweep.ui._extra import INSTALL, require_extra
from psweep.ui._report import Report, report
from psweep.ui._serve import ui
from psweep.ui._study import Study

__all__ = ["INSTALL", "Report", "Study", "report", "require_extra", "ui"]
