"""The ``ui`` extra: Dash and Plotly, imported only when a view or a report is made."""

from __future__ import annotations

import importlib

from psweep.errors import MissingDependencyError

__all__ = ["INSTALL", "require_extra"]

INSTALL = 'pip install "psweep[ui]"'


def require_extra() -> None:
    """Raise MissingDependencyError naming the install command if Dash or Plotly is missing.

    Examples
    --------
    >>> from psweep.ui._extra import require_extra
    >>> require_extra()  # doctest: +SKIP
    """
    missing = []
    for name in ("dash", "plotly"):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise MissingDependencyError(
            f"psweep ui and psweep report need {' and '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed. Install them with: {INSTALL}"
        )
