"""The table of ``psweep runs`` and ``psweep status``, fitted to a terminal's width."""

from __future__ import annotations

import pandas as pd

__all__ = ["RUNS_FIT_STEPS", "runs_text"]

# How psweep runs fits a narrow terminal: each step in turn, until the table fits.
RUNS_FIT_STEPS = (
    "source: left out (it is backup_script/<_run_id>.py)",
    "_run_id: shortened to a unique prefix of 8 or more characters (psweep show --run takes it)",
    "start, last_row: without the year (MM-DD HH:MM:SS)",
    "host: left out",
    "start: left out",
    "rows/s: left out",
    "last_row: left out",
)


def runs_text(table: pd.DataFrame, width: int | None = None) -> str:
    """The table of :func:`psweep.runs` for a terminal `width` columns wide.

    Parameters
    ----------
    table
        What :func:`psweep.runs` returns.
    width
        Columns to fit in; None for no limit (all columns, whole ids). A
        table too wide is made narrower by the steps of
        :data:`RUNS_FIT_STEPS`, in that order, until it fits (``_run_id``,
        ``state``, ``planned``, ``done``, ``failed`` and ``eta`` stay).

    Returns
    -------
    str

    Examples
    --------
    >>> import psweep as ps
    >>> from psweep.cli._runs_table import runs_text
    >>> _ = ps.run(lambda pset: {}, ps.plist("a", [1, 2]))
    >>> print(runs_text(ps.runs("calc"), width=50).split("\\n")[0])
     _run_id    state planned  done  failed  eta
    """
    if len(table) == 0:
        return "no runs"
    columns = _runs_columns(table)
    text = columns.to_string(index=False)
    step = 0
    while width is not None and max(map(len, text.split("\n"))) > width and step < len(RUNS_FIT_STEPS):
        columns = _fit_step(columns, table, step)
        text = columns.to_string(index=False)
        step += 1
    return text


def _runs_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The columns of :func:`runs_text`, as text, all of them."""
    def eta(t: object) -> str:
        return "-" if pd.isna(t) else str(pd.Timedelta(t).round("1s")).removeprefix("0 days ")

    return pd.DataFrame(
        {
            "_run_id": table["_run_id"],
            "state": _states(table),
            "planned": ["-" if pd.isna(v) else str(int(v)) for v in table["planned"]],
            "done": table["done"],
            "failed": table["failed"],
            "start": table["start"].map(_stamp),
            "last_row": table["last_row"].map(_stamp),
            "rows/s": ["-" if pd.isna(v) else f"{v:.1f}" for v in table["rows_per_s"]],
            "eta": table["eta"].map(eta),
            "host": table["host"].fillna("-"),
            "source": table["source"].fillna("-"),
        }
    )


def _states(table: pd.DataFrame) -> list[str]:
    """The state of each run; a running run of another host that missed heartbeats: "no news for N min"."""
    no_news = table["no_news"] if "no_news" in table.columns else [pd.NaT] * len(table)
    states = []
    for state, silent in zip(table["state"], no_news):
        if state == "running" and not pd.isna(silent):
            seconds = pd.Timedelta(silent).total_seconds()
            state = f"no news for {seconds / 60:.0f} min" if seconds >= 90 else f"no news for {seconds:.0f} s"
        states.append(state)
    return states


def _stamp(t: object, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "-" if pd.isna(t) else pd.Timestamp(t).strftime(fmt)


def _fit_step(columns: pd.DataFrame, table: pd.DataFrame, step: int) -> pd.DataFrame:
    """`columns` after step `step` of :data:`RUNS_FIT_STEPS`."""
    if step == 0:
        return columns.drop(columns="source")
    if step == 1:
        return columns.assign(_run_id=_unique_prefixes(table["_run_id"].astype(str).tolist(), 8))
    if step == 2:
        return columns.assign(**{c: table[c].map(lambda t: _stamp(t, "%m-%d %H:%M:%S"))
                                 for c in ("start", "last_row")})
    return columns.drop(columns={3: "host", 4: "start", 5: "rows/s", 6: "last_row"}[step])


def _unique_prefixes(ids: list[str], shortest: int) -> list[str]:
    """The shortest prefixes of `ids` (at least `shortest` long) that tell distinct ids apart."""
    distinct = set(ids)
    for n in range(shortest, max(map(len, ids), default=0) + 1):
        if len({i[:n] for i in distinct}) == len(distinct):
            return [i[:n] for i in ids]
    return ids
