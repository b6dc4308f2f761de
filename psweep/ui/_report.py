"""``ps.report``: one self-contained HTML file of a study (runs, plots, failures, coverage).

Plotly's JavaScript is inlined once, in the first figure; tables are plain
escaped HTML; the style is a small inline sheet. The file fetches nothing,
so it opens on an offline laptop after ``scp``.
"""

from __future__ import annotations

import html
import os
from typing import Any

import pandas as pd

from psweep._files import write_atomic
from psweep.ui._extra import require_extra
from psweep.ui._pages import RUN_COLUMNS
from psweep.ui._plots import coverage_figure, default_choice, result_figure
from psweep.ui._study import Study
from psweep.ui._summaries import coverage, failure_groups

__all__ = ["Report", "report"]

# Results the report plots at most (one figure each).
MAX_PLOTS = 6
REPORT_NAME = "report.html"

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1em 2em; color: #222; max-width: 1200px; }
table { border-collapse: collapse; font-size: 90%; margin: .5em 0 1em; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; }
.error { background: #fde8e8; padding: 1em; }
"""


class Report:
    """A study's report: its HTML, the file it was written to, its figures.

    In a notebook it displays itself (the same plots, inline).

    Parameters
    ----------
    body
        The HTML of the report's body (plotly.js inlined in its first figure).
    figures
        The plotly figures in it.
    title
        The document's title.
    path
        Where it was written, if it was.

    Attributes
    ----------
    html : str
        The whole HTML document.
    path : str or None
        Where it was written.
    figures : list of plotly.graph_objects.Figure
    """

    def __init__(self, body: str, figures: list[Any], title: str, path: str | None = None) -> None:
        self.body, self.figures, self.title, self.path = body, figures, title, path
        self.html = (
            f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
        )

    def _repr_html_(self) -> str:
        return self.body

    def __repr__(self) -> str:
        return f"<psweep report {self.title!r}{f' at {self.path!r}' if self.path else ''}>"


def report(
    calc_dir: str | os.PathLike[str] = "calc",
    path: str | os.PathLike[str] | None = None,
    database_basename: str | None = None,
) -> Report:
    """Write one self-contained HTML file of a study: runs, main plots, failures, coverage.

    Parameters
    ----------
    calc_dir
        The calc dir; it is only read.
    path
        The HTML file; default ``<calc_dir>/report.html``. ``False``-like
        ``""`` writes nothing (the report is only returned, e.g. to display).
    database_basename
        The database file in `calc_dir`; default: the one it holds.

    Returns
    -------
    Report
        Displays its plots inline in a notebook.

    Raises
    ------
    MissingDependencyError
        Without the ``ui`` extra (``pip install "psweep[ui]"``).

    Examples
    --------
    >>> import psweep as ps
    >>> df = ps.run(lambda p: {"y_": p["a"] ** 2}, ps.plist("a", [1, 2, 3]), calc_dir="calc")
    >>> rep = ps.report("calc")
    >>> rep.path
    'calc/report.html'
    >>> "plotly" in open(rep.path).read()
    True
    """
    require_extra()
    study = Study(os.fspath(calc_dir), database_basename)
    title = f"psweep report: {study.calc_dir}"
    if study.error:
        body = f"<h1>{html.escape(title)}</h1><p class='error'>{html.escape(study.error)}</p>"
        figures: list[Any] = []
    else:
        body, figures = _body(study, title)
    rep = Report(body, figures, title)
    if path is None:
        path = os.path.join(study.calc_dir, REPORT_NAME)
    if path:
        rep.path = os.fspath(path)
        write_atomic(rep.path, rep.html.encode("utf-8"))
    return rep


def _body(study: Study, title: str) -> tuple[str, list[Any]]:
    df = study.df
    stamp = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>{len(df)} rows, {len(study.failed())} failed; made {stamp}.</p>", "<h2>Runs</h2>",
             _table(study.runs().reindex(columns=RUN_COLUMNS))]
    figures = _figures(study)
    parts.append("<h2>Results</h2>")
    for i, fig in enumerate(figures["results"]):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False}))
    parts += _failures(study)
    parts.append("<h2>Coverage</h2>")
    cov = coverage(df, study.varied())
    if cov is None:
        parts.append("<p>No grid to show (no varied parameter, or too many combinations).</p>")
    else:
        c = cov["counts"]
        parts.append(f"<p>{len(cov['table'])} combinations of {html.escape(', '.join(cov['params']))}: "
                     f"{c['done']} done, {c['failed']} failed, {c['missing']} missing.</p>")
        fig = coverage_figure(cov)
        figures["coverage"].append(fig)
        parts.append(fig.to_html(full_html=False, include_plotlyjs=not figures["results"],
                                 config={"displaylogo": False}))
        gaps = cov["table"][cov["table"]["status"] != "done"].head(200)
        if len(gaps):
            parts.append(_table(gaps))
    return "\n".join(parts), figures["results"] + figures["coverage"]


def _figures(study: Study) -> dict[str, list[Any]]:
    varied, numeric = study.varied(), study.numeric_results()
    nunique = study.nunique()
    found: dict[str, list[Any]] = {"results": [], "coverage": []}
    for y in numeric[:MAX_PLOTS]:
        choice = default_choice(varied, [y], nunique)
        if choice["x"] is not None:
            found["results"].append(result_figure(study.df, choice))
    return found


def _failures(study: Study) -> list[str]:
    groups = failure_groups(study.failed(), study.params())
    parts = ["<h2>Failures</h2>"]
    if not groups:
        return parts + ["<p>No pset failed.</p>"]
    table = pd.DataFrame({
        "psets": [g["count"] for g in groups],
        "error": [g["error"] for g in groups],
        "shared parameter values": [", ".join(f"{k}={v!r}" for k, v in g["shared"].items()) for g in groups],
        "first _pset_ids": [" ".join(g["pset_ids"][:3]) for g in groups],
    })
    parts.append(_table(table))
    failed = study.failed()
    for group in groups:
        first = failed[failed["_pset_id"].astype(str) == group["pset_ids"][0]] if group["pset_ids"] else None
        if first is not None and len(first) and "_exc_txt" in first.columns:
            text = str(first["_exc_txt"].iloc[0])
            parts.append(f"<details><summary>{html.escape(group['error'])}</summary>"
                         f"<pre>{html.escape(text)}</pre></details>")
    return parts


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, escape=True, na_rep="", border=0)
