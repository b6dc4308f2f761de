"""Plots of a result over the parameters, aggregated in pandas before plotting.

A plot never carries one point per row: lines show the mean and the
standard deviation over the other parameters (or repeats) per x value,
colour and facet; a heatmap the mean per pair of values; a scatter at
most ``MAX_POINTS`` rows. So a million rows send a few hundred numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from psweep._schema import failed_mask

__all__ = ["KINDS", "PlotChoice", "coverage_figure", "default_choice", "result_figure"]

KINDS = ("line", "scatter", "heatmap")
MAX_POINTS = 5_000
# A parameter with more values than this does not colour or facet a plot.
MAX_GROUPS = 12


class PlotChoice(dict):
    """What a plot shows: ``y`` (a result), ``x``, ``color``, ``facet`` (parameters or None), ``kind``."""


def default_choice(varied: list[str], results: list[str], nunique: dict[str, int]) -> PlotChoice:
    """The plot shown first: the first numeric result over the varied parameter with most values.

    Examples
    --------
    >>> from psweep.ui._plots import default_choice
    >>> dict(default_choice(["a", "b"], ["y"], {"a": 3, "b": 2}))
    {'y': 'y', 'x': 'a', 'color': 'b', 'facet': None, 'kind': 'line'}
    """
    ordered = sorted(varied, key=lambda c: -nunique.get(c, 0))
    x = ordered[0] if ordered else None
    rest = [c for c in ordered[1:] if nunique.get(c, 0) <= MAX_GROUPS]
    return PlotChoice(y=results[0] if results else None, x=x, color=rest[0] if rest else None,
                      facet=rest[1] if len(rest) > 1 else None, kind="line")


def _aggregate(df: pd.DataFrame, y: str, keys: list[str]) -> pd.DataFrame:
    values = pd.to_numeric(df[y], errors="coerce")
    frame = df[keys].assign(**{y: values})
    agg = frame.groupby(keys, dropna=False, observed=True)[y].agg(["mean", "std", "count"]).reset_index()
    return agg.rename(columns={"mean": y, "std": f"{y} std", "count": "rows"})


def result_figure(df: pd.DataFrame, choice: PlotChoice) -> Any:
    """The plotly figure of `choice` over `df`.

    Parameters
    ----------
    df
        The rows (failed rows are left out of the plot).
    choice
        See :class:`PlotChoice`.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.express as px
    import plotly.graph_objects as go

    y, x, color, facet = choice.get("y"), choice.get("x"), choice.get("color"), choice.get("facet")
    if not y or not x or y not in df.columns or x not in df.columns:
        return _empty("Nothing to plot: the study has no numeric result or no varied parameter.")
    color = color if color in df.columns and color != x else None
    facet = facet if facet in df.columns and facet not in (x, color) else None
    # Only the columns plotted, then only the rows that did not fail: never
    # a copy of every column of a million rows.
    used = list(dict.fromkeys(c for c in (x, color, facet, y) if c))
    ok = ~np.asarray(failed_mask(df), dtype=bool) if "_failed" in df.columns else None
    df = df[used] if ok is None else df[used][ok]
    kind = choice.get("kind") or "line"
    if kind == "heatmap":
        other = color or facet
        if other is None:
            return _empty("A heatmap needs two parameters: pick a colour parameter as the second axis.")
        agg = _aggregate(df, y, [x, other])
        table = agg.pivot(index=other, columns=x, values=y)
        fig = go.Figure(go.Heatmap(z=table.to_numpy(), x=[str(v) for v in table.columns],
                                   y=[str(v) for v in table.index], colorbar={"title": {"text": y}}))
        fig.update_layout(xaxis_title=x, yaxis_title=other, title=f"mean {y}")
    elif kind == "scatter":
        rows = df if len(df) <= MAX_POINTS else df.sample(MAX_POINTS, random_state=0)
        rows = _as_label(rows, color)
        fig = px.scatter(rows, x=x, y=y, color=color, facet_col=facet,
                         title=f"{y} ({len(rows)} of {len(df)} rows)" if len(rows) < len(df) else y)
    else:
        keys = [k for k in (x, color, facet) if k]
        agg = _as_label(_aggregate(df, y, keys).sort_values(keys), color)
        fig = px.line(agg, x=x, y=y, error_y=f"{y} std", color=color, facet_col=facet,
                      markers=True, hover_data=["rows"], title=f"mean and std of {y}")
    fig.update_layout(margin={"l": 50, "r": 20, "t": 50, "b": 40}, template="plotly_white")
    return fig


def _as_label(df: pd.DataFrame, column: str | None) -> pd.DataFrame:
    """Colour by the text of a parameter, so numbers give distinct colours, not a scale."""
    return df if column is None else df.assign(**{column: df[column].astype(str)})


def _empty(message: str) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(xaxis_visible=False, yaxis_visible=False, template="plotly_white")
    return fig


def coverage_figure(cov: dict[str, Any]) -> Any:
    """A heatmap of which combinations of the first two varied parameters are done, failed, missing.

    With more than two varied parameters, a cell is the worst status over
    the others (missing before failed before done).
    """
    import plotly.graph_objects as go

    table, params = cov["table"], cov["params"]
    rank = table["status"].map({"done": 0, "failed": 1, "missing": 2})
    x = params[0]
    other = params[1] if len(params) > 1 else None
    frame = table.assign(rank=rank, one="")
    worst = frame.groupby([x, other or "one"], observed=True)["rank"].max().unstack()
    colors = [[0, "#2ca02c"], [0.33, "#2ca02c"], [0.34, "#d62728"], [0.66, "#d62728"], [0.67, "#cccccc"],
              [1, "#cccccc"]]
    names = {0: "done", 1: "failed", 2: "missing"}
    fig = go.Figure(go.Heatmap(
        z=worst.T.to_numpy(), x=[str(v) for v in worst.index], y=[str(v) for v in worst.columns],
        zmin=0, zmax=2, colorscale=colors, xgap=2, ygap=2,
        text=[[names.get(v, "") for v in row] for row in worst.T.to_numpy()],
        hovertemplate=f"{x}=%{{x}}<br>{other or ''}=%{{y}}<br>%{{text}}<extra></extra>",
        colorbar={"tickvals": [0.33, 1, 1.67], "ticktext": ["done", "failed", "missing"]},
    ))
    fig.update_layout(xaxis_title=x, yaxis_title=other or "", template="plotly_white",
                      margin={"l": 50, "r": 20, "t": 30, "b": 40}, xaxis_type="category",
                      yaxis_type="category")
    return fig
