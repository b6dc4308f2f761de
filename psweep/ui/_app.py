"""The Dash app of ``psweep ui``: the views, their callbacks and the files of a pset.

Everything the browser loads comes from this server (Dash serves React,
its components and plotly.js from its own package: ``serve_locally``);
nothing is fetched from the network.
"""

from __future__ import annotations

import os
from typing import Any

from psweep.ui._pages import PAGE_SIZE, VIEWS, page_for, runs_records
from psweep.ui._plots import PlotChoice, result_figure
from psweep.ui._pset import source_diff, safe_path
from psweep.ui._study import Study
from psweep.ui._tables import TablePager, table_columns

__all__ = ["create_app", "CSS"]

# Seconds between checks of the calc dir's files (a check is a few stat calls).
REFRESH_S = 1.0

CSS = """
body { font-family: system-ui, sans-serif; margin: 0 1.5em 2em; color: #222; }
nav { display: flex; gap: 1.2em; align-items: baseline; border-bottom: 1px solid #ddd; padding: .6em 0; }
nav a { text-decoration: none; color: #1f5fa8; font-weight: 600; }
nav .study { margin-left: auto; color: #555; font-size: 90%; }
.pickers { display: flex; gap: 1em; flex-wrap: wrap; }
.picker { min-width: 11em; font-size: 90%; }
pre.text { background: #f6f6f6; padding: .6em; overflow-x: auto; max-height: 30em; }
table.plain { border-collapse: collapse; font-size: 90%; }
table.plain td, table.plain th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; }
.error { background: #fde8e8; padding: 1em; border: 1px solid #d62728; }
.failure-group { border-left: 4px solid #d62728; padding-left: 1em; margin-bottom: 1em; }
.hint { color: #666; font-size: 90%; }
"""

_INDEX = """<!DOCTYPE html>
<html><head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}<style>""" + CSS + """</style></head>
<body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body></html>"""


def create_app(study: Study) -> Any:
    """The Dash app showing `study`.

    Parameters
    ----------
    study
        The calc dir, read.

    Returns
    -------
    dash.Dash
        Its Flask server is ``app.server``.
    """
    import dash
    import plotly.express  # noqa: F401  # now, at start, not on the first plot (about 1 s)
    from dash import dcc, html

    app = dash.Dash(
        __name__, title=f"psweep: {study.calc_dir}", serve_locally=True, assets_folder=_NO_ASSETS,
        include_assets_files=False, suppress_callback_exceptions=True, update_title=None,
    )
    app.index_string = _INDEX
    app.layout = html.Div([
        dcc.Location(id="url"),
        html.Nav([dcc.Link(v.capitalize(), href=f"/{v}", id=f"nav-{v}") for v in VIEWS]
                 + [html.Span(id="study-line", className="study")]),
        dcc.Interval(id="tick", interval=int(REFRESH_S * 1000)),
        dcc.Store(id="version", data=study.version),
        dcc.Store(id="shown-error", data=False),
        html.Div(id="page"),
    ])
    _add_callbacks(app, study)
    _add_files_route(app.server, study.calc_dir)
    return app


# A folder that holds no assets: Dash would otherwise serve ./assets of
# the current directory.
_NO_ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_no_assets")


def _add_callbacks(app: Any, study: Study) -> None:
    from dash import Input, Output, State, ctx, no_update

    pager = TablePager([])

    # Not at load: a callback that answers no_update at load would hold back
    # the first call of every callback reading the version.
    @app.callback(Output("version", "data"), Input("tick", "n_intervals"), State("version", "data"),
                  prevent_initial_call=True)
    def tick(_: Any, seen: int) -> Any:
        study.refresh()
        return study.version if study.version != seen else no_update

    @app.callback(Output("page", "children"), Output("shown-error", "data"),
                  Input("url", "pathname"), Input("version", "data"), State("shown-error", "data"))
    def page(path: str, _: int, shown_error: bool) -> Any:
        # A new version redraws the page only to replace an error page (the
        # database appeared or was mended); else the views update their parts.
        if ctx.triggered_id == "version" and not shown_error:
            return no_update, no_update
        return page_for(study, path), study.error is not None

    @app.callback(Output("study-line", "children"), Input("version", "data"))
    def study_line(_: int) -> str:
        n_failed = len(study.failed())
        return f"{study.calc_dir}: {len(study.df)} rows, {n_failed} failed"

    @app.callback(Output("runs-table", "data"), Input("version", "data"))
    def runs_table(_: int) -> Any:
        return runs_records(study)

    @app.callback(
        Output("results-table", "data"), Output("results-table", "page_count"),
        Input("results-table", "page_current"), Input("results-table", "page_size"),
        Input("results-table", "sort_by"), Input("results-table", "filter_query"), Input("version", "data"),
    )
    def results_table(page: int, size: int, sort_by: Any, query: str, _: int) -> Any:
        pager.columns = table_columns(study.df, study.params(), study.results())
        rows, n_pages = pager.page(study.df, study.version, query, sort_by, page or 0, size or PAGE_SIZE)
        for row in rows:
            if row.get("_pset_id"):
                row["_pset_id"] = f"[{row['_pset_id']}](/pset/{row['_pset_id']})"
        return rows, n_pages

    @app.callback(
        Output("plot", "figure"),
        Input("plot-y", "value"), Input("plot-x", "value"), Input("plot-color", "value"),
        Input("plot-facet", "value"), Input("plot-kind", "value"), Input("version", "data"),
    )
    def plot(y: str, x: str, color: str, facet: str, kind: str, _: int) -> Any:
        return result_figure(study.df, PlotChoice(y=y, x=x, color=color, facet=facet, kind=kind))

    @app.callback(Output("diff-text", "children"), Input("diff-other", "value"), State("diff-run", "data"))
    def diff(other: str, run_id: str) -> str:
        return source_diff(study.calc_dir, other, run_id) or "(the same source)"


def _add_files_route(server: Any, calc_dir: str) -> None:
    """``/files/<path>``: a file below the calc dir, 404 for anything else."""
    from flask import abort, request, send_file

    def only_our_files() -> None:
        # "/files//etc/passwd" and the like match no rule of ours and would
        # get Dash's page: answer them 404 like every other refused path.
        if request.path.startswith("/files/") and request.endpoint != "psweep_files":
            abort(404)

    def files(relative: str) -> Any:
        real = safe_path(calc_dir, relative)
        if real is None:
            abort(404)
        return send_file(real, max_age=0)

    server.add_url_rule("/files/<path:relative>", "psweep_files", files)
    server.before_request(only_our_files)
