"""The layout of each view, built from a :class:`~psweep.ui._study.Study` (Dash components)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from psweep.ui._plots import KINDS, coverage_figure, default_choice
from psweep.ui._pset import pset_files, pset_row, provenance_of
from psweep.ui._study import Study
from psweep.ui._summaries import coverage, failure_groups
from psweep.ui._tables import json_cell, table_columns

__all__ = ["VIEWS", "error_page", "page_for", "runs_records", "RUN_COLUMNS"]

VIEWS = ("runs", "results", "failures", "coverage")
RUN_COLUMNS = ["_run_id", "state", "planned", "done", "failed", "start", "rows_per_s", "eta", "host"]
PAGE_SIZE = 25


def page_for(study: Study, path: str) -> Any:
    """The view the URL path `path` names (``/runs``, ``/results``, ``/pset/<id>``, ...)."""
    from dash import html

    if study.error:
        return error_page(study.error)
    parts = [p for p in (path or "/").split("/") if p]
    name = parts[0] if parts else "runs"
    if name == "pset" and len(parts) > 1:
        return pset_page(study, parts[1])
    builders = {"runs": runs_page, "results": results_page, "failures": failures_page, "coverage": coverage_page}
    if name not in builders:
        return html.Div([html.H2("Not found"), html.P(f"No view {path!r}: see the links above.")])
    return builders[name](study)


def error_page(message: str) -> Any:
    """A clear page for a missing or damaged database."""
    from dash import html

    return html.Div(className="error", id="error", children=[
        html.H2("The database cannot be read"), html.P(message),
        html.P("psweep ui never changes the calc dir; fix the database (or pass another calc dir) "
               "and this page shows it as soon as it can be read."),
    ])


def runs_records(study: Study) -> list[dict[str, Any]]:
    """The runs table as DataTable rows."""
    table = study.runs()
    records = []
    for row in table.to_dict("records"):
        rec = {c: json_cell(row.get(c)) for c in RUN_COLUMNS}
        if isinstance(row.get("eta"), pd.Timedelta) and not pd.isna(row["eta"]):
            rec["eta"] = str(row["eta"].round("s"))
        if isinstance(rec.get("rows_per_s"), float):
            rec["rows_per_s"] = round(rec["rows_per_s"], 2)
        records.append(rec)
    return records


def runs_page(study: Study) -> Any:
    from dash import dash_table, html

    return html.Div([
        html.H2("Runs"),
        dash_table.DataTable(
            id="runs-table", data=runs_records(study), columns=[{"name": c, "id": c} for c in RUN_COLUMNS],
            style_table={"overflowX": "auto"}, style_cell={"fontFamily": "monospace", "fontSize": 13},
            style_data_conditional=[
                {"if": {"filter_query": f'{{state}} = "{s}"'}, "backgroundColor": c}
                for s, c in (("running", "#e8f4ff"), ("killed", "#fde8e8"), ("stopped", "#fde8e8"),
                             ("interrupted", "#fff4e0"))
            ],
        ),
    ])


def results_page(study: Study) -> Any:
    from dash import dash_table, dcc, html

    df = study.df
    params, results, varied = study.params(), study.results(), study.varied()
    numeric = study.numeric_results()
    nunique = study.nunique()
    choice = default_choice(varied, numeric, nunique)
    cols = table_columns(df, params, results)

    def picker(label: str, ident: str, options: list[str], value: Any, clearable: bool = True) -> Any:
        return html.Label([label, dcc.Dropdown(id=ident, options=options, value=value, clearable=clearable)],
                          className="picker")

    constant = [c for c in params if c not in varied]
    return html.Div([
        html.H2("Results"),
        html.Div(className="pickers", children=[
            picker("result (y)", "plot-y", numeric, choice["y"], False),
            picker("x", "plot-x", varied, choice["x"], False),
            picker("colour", "plot-color", varied, choice["color"]),
            picker("facet", "plot-facet", varied, choice["facet"]),
            picker("kind", "plot-kind", list(KINDS), "line", False),
        ]),
        html.P(f"constant parameters (hidden): {', '.join(f'{c}={df[c].iloc[0]!r}' for c in constant)}"
               if constant and len(df) else ""),
        dcc.Graph(id="plot", config={"displaylogo": False}),
        html.H3("Table"),
        html.P("Filter with e.g. > 3, < 0.5, = 2 or text; sort by clicking a column head.", className="hint"),
        dash_table.DataTable(
            id="results-table",
            columns=[{"name": c, "id": c, "presentation": "markdown" if c == "_pset_id" else "input"}
                     for c in cols],
            page_current=0, page_size=PAGE_SIZE, page_action="custom",
            sort_action="custom", sort_mode="multi", sort_by=[],
            filter_action="custom", filter_query="",
            style_table={"overflowX": "auto"}, style_cell={"fontFamily": "monospace", "fontSize": 13},
        ),
    ])


def failures_page(study: Study) -> Any:
    from dash import dcc, html

    groups = failure_groups(study.failed(), study.params())
    if not groups:
        return html.Div([html.H2("Failures"), html.P("No pset failed.")])
    kinds = f"{len(groups)} kind{'s' if len(groups) > 1 else ''} of error"
    blocks = [html.H2(f"Failures ({sum(g['count'] for g in groups)} psets, {kinds})")]
    for group in groups:
        shared = ", ".join(f"{k}={v!r}" for k, v in group["shared"].items()) or "nothing"
        blocks.append(html.Div(className="failure-group", children=[
            html.H3(f"{group['count']} x {group['error']}"),
            html.P(f"parameter values these psets share: {shared}"),
            html.Ul([html.Li(dcc.Link(pid, href=f"/pset/{pid}", className="pset-link"))
                     for pid in group["pset_ids"][:20]]),
        ]))
    return html.Div(blocks)


def coverage_page(study: Study) -> Any:
    from dash import dcc, html

    cov = coverage(study.df, study.varied())
    if cov is None:
        return html.Div([html.H2("Coverage"), html.P(
            "No grid to show: the study varies no parameter, or too many combinations of them.")])
    counts = cov["counts"]
    gaps = cov["table"][cov["table"]["status"] != "done"].head(200)
    return html.Div([
        html.H2("Coverage"),
        html.P(f"{len(cov['table'])} combinations of {', '.join(cov['params'])}: "
               f"{counts['done']} done, {counts['failed']} failed, {counts['missing']} missing",
               id="coverage-counts"),
        dcc.Graph(id="coverage-plot", figure=coverage_figure(cov), config={"displaylogo": False}),
        html.H3("Failed and missing combinations" + (" (first 200)" if len(gaps) == 200 else "")),
        _html_table(gaps) if len(gaps) else html.P("none"),
    ])


def _html_table(df: pd.DataFrame) -> Any:
    from dash import html

    head = html.Tr([html.Th(str(c)) for c in df.columns])
    body = [html.Tr([html.Td("" if json_cell(v) is None else str(v)) for v in row])
            for row in df.itertuples(index=False, name=None)]
    return html.Table([html.Thead(head), html.Tbody(body)], className="plain")


def pset_page(study: Study, pset_id: str) -> Any:
    from dash import dcc, html

    row = pset_row(study.df, pset_id)
    if row is None:
        return html.Div([html.H2("Not found"), html.P(f"No pset with _pset_id {pset_id!r}.")])
    cells = [html.Tr([html.Th(str(k)), html.Td(html.Pre(str(v)) if "\n" in str(v) else str(v))])
             for k, v in row.items() if k not in ("_exc_txt", "_logs")]
    parts = [html.H2(f"pset {pset_id}"), html.Table(cells, className="plain", id="pset-columns")]
    for key, title in (("_exc_txt", "Traceback"), ("_logs", "Logs")):
        text = row.get(key)
        if isinstance(text, str) and text.strip():
            parts += [html.H3(title), html.Pre(text, id=f"pset{key}", className="text")]
    parts += [html.H3("Files"), _files_block(study.calc_dir, pset_id)]
    run_id = str(row.get("_run_id"))
    prov = provenance_of(study.calc_dir, run_id)
    record = {k: v for k, v in prov["record"].items() if k != "packages"}
    parts += [html.H3(f"Run {run_id}"), html.Pre(json.dumps(record, indent=2, default=str), className="text")]
    if prov["source"]:
        parts += [html.Details([html.Summary("source of the run"), html.Pre(prov["source"], className="text")])]
    others = [r for r in study.runs()["_run_id"].astype(str) if r != run_id]
    if others:
        parts += [
            html.H3("Source diff against another run"),
            dcc.Dropdown(id="diff-other", options=others, value=others[-1], clearable=False),
            dcc.Store(id="diff-run", data=run_id),
            html.Pre(id="diff-text", className="text"),
        ]
    return html.Div(parts)


def _files_block(calc_dir: str, pset_id: str) -> Any:
    from dash import html

    files = pset_files(calc_dir, pset_id)
    if not files:
        return html.P(f"no files in {pset_id}/")
    items = []
    for info in files:
        href = f"/files/{info['path']}"
        head = html.P([html.A(info["path"], href=href), f" ({info['size']} bytes)"])
        if info["kind"] == "image":
            items += [head, html.Img(src=href, style={"maxWidth": "600px"})]
        elif info["kind"] == "text":
            items += [head, html.Pre(info["text"], className="text")]
        else:
            items.append(head)
    return html.Div(items, id="pset-files")
