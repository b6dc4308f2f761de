"""Run status: which runs of a calc dir are running, finished or died.

Nothing here writes. A run tells its state through two files it writes
anyway: its provenance file ``<calc_dir>/backup_script/<_run_id>.json``
(planned psets, driver pid and host, start time; locked with ``flock``
while the run lives; an end marker added once at the end) and its journal
(locked while it lives). The rows themselves give done and failed counts
and the time of the last row.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from psweep._procs import pid_exists
from psweep._schema import failed_mask, journal_run_id
from psweep.errors import DatabaseNotFoundError
from psweep.provenance._records import read_records, records_folder
from psweep.provenance._source import source_path
from psweep.store import Store, database_name, heartbeat_interval, liveness_timeout, this_host

__all__ = ["runs", "run_table", "STATES", "COLUMNS"]

STATES = ("running", "finished", "killed", "interrupted", "stopped", "unknown")
COLUMNS = [
    "_run_id",
    "state",
    "planned",
    "done",
    "failed",
    "start",
    "last_row",
    "rows_per_s",
    "eta",
    "host",
    "source",
    "no_news",
]


def runs(calc_dir: str | os.PathLike[str] = "calc", database_basename: str | None = None) -> pd.DataFrame:
    """One row per run of a calc dir's database, with its state and progress.

    The states:

    * ``running``: its driver process lives (its provenance file or its
      journal is locked, and on this host its pid exists; for a run of
      another host that may not see our locks: its run record or journal
      was refreshed within the liveness timeout, ``PSWEEP_LIVENESS_TIMEOUT``,
      default 180 s);
    * ``finished``: it ran every planned pset and folded its rows (failed
      psets included: see ``failed``);
    * ``killed``: its process died before its end (SIGKILL, out of memory,
      power cut); rows it recorded are kept, ``planned - done`` psets did
      not run (``skip_dups=True`` runs exactly those);
    * ``interrupted``: stopped by Ctrl-C (KeyboardInterrupt);
    * ``stopped``: ended by an exception (``on_error="raise"``, a full
      disk, ...);
    * ``unknown``: rows written by psweep versions that kept no end marker
      (0.16, or before 0.17).

    Runs with ``save=False`` write nothing and are not listed; a
    ``simulate`` run is listed under ``<calc_dir>.simulate``.

    Parameters
    ----------
    calc_dir
        The calc dir.
    database_basename
        File name of the database in `calc_dir`; default: the one it holds
        (``results.pk``, or psweep 0.16's ``database.pk`` in a calc dir
        holding only that one).

    Returns
    -------
    pandas.DataFrame
        Sorted by start time, with the columns ``_run_id``, ``state``,
        ``planned`` (psets the run set out to do), ``done`` (rows recorded,
        including rows still in journals), ``failed``, ``start``,
        ``last_row`` (when its last row finished, UTC), ``rows_per_s`` and
        ``eta`` (remaining time; both for running runs only), ``host`` (the
        driver's), ``source`` (the captured source file, if any) and
        ``no_news`` (for a running run of another host whose lock this host
        does not see: the time since its last sign of life; after the
        liveness timeout it counts as killed).

    Raises
    ------
    DatabaseNotFoundError
        If `calc_dir` has neither a database nor a run's provenance file.
    DatabaseError
        If the database file cannot be read.

    Examples
    --------
    >>> import psweep as ps
    >>> def func(pset):
    ...     return {"b": pset["a"] * 2}
    >>> df = ps.run(func, ps.plist("a", [1, 2, 3]), calc_dir="calc")
    >>> ps.runs("calc")[["state", "planned", "done", "failed"]]
          state  planned  done  failed
    0  finished        3     3       0
    """
    return run_table(calc_dir, database_basename)


def run_table(
    calc_dir: str | os.PathLike[str] = "calc",
    database_basename: str | None = None,
    *,
    rows: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`runs`, counting the rows of a frame at hand instead of reading the database.

    `rows` is every recorded row as the caller read it (``psweep ui``
    holds the frame already: a second read would take as long as the
    first). Rows read before this call may lag behind the run records: a
    run that ended since shows fewer rows done until the rows are read
    again. None: the database and its journals are read.
    """
    calc_dir = os.fspath(calc_dir)
    database_basename = database_name(calc_dir, database_basename)
    store = Store(calc_dir, database_basename)
    folder = records_folder(calc_dir)
    # Probe the locks before reading the files: a run writes its end marker
    # before it releases its locks, so a lock found free here means the end
    # marker, if the run wrote one, is in the file read below.
    live_journals = {
        journal_run_id(path): live for path, live, _ in store.journal_status()
    }
    infos = read_records(calc_dir, database_basename)
    if not infos and not store.exists():
        raise DatabaseNotFoundError(
            f"no psweep database at {store.db_path!r} and no run recorded in "
            f"{folder!r}. Check the path, or run a study first (ps.run / f.over)."
        )
    if rows is None:
        rows = store.with_pending() if store.exists() else pd.DataFrame()
    counts = _row_counts(rows)
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    records = []
    for run_id in list(infos) + [r for r in counts.index if r not in infos]:
        info, locked, record_age = infos.get(run_id, ({}, False, None))
        if run_id in infos and info.get("database") is None and run_id not in counts.index:
            continue  # provenance of an older psweep, for another database
        has_rows = run_id in counts.index
        row = counts.loc[run_id] if has_rows else None
        live, no_news = _liveness(info, locked, live_journals.get(run_id, False), record_age)
        record = _status(run_id, info, row, live, run_id in live_journals, now, calc_dir)
        running = no_news is not None and record["state"] == "running"
        record["no_news"] = pd.Timedelta(seconds=no_news) if running else None
        records.append(record)
    table = pd.DataFrame.from_records(records, columns=COLUMNS)
    table["planned"] = table["planned"].astype("Int64")
    for col in ("done", "failed"):
        table[col] = table[col].astype("int64")
    for col in ("start", "last_row"):
        table[col] = pd.to_datetime(table[col])
    table["rows_per_s"] = table["rows_per_s"].astype("float64")
    table["eta"] = pd.to_timedelta(table["eta"])
    table["no_news"] = pd.to_timedelta(table["no_news"])
    return table.sort_values("start", kind="stable", na_position="first").reset_index(drop=True)


def _row_counts(db: pd.DataFrame) -> pd.DataFrame:
    """Per ``_run_id``: done, failed, first and last row time, first exec host.

    Plain numpy over the group codes of :func:`group_runs`: on a million
    rows, grouping the ``_run_id`` strings with pandas takes seconds, and
    ``psweep runs`` must answer in well under 2 s.
    """
    if "_run_id" not in db.columns or len(db) == 0:
        return pd.DataFrame(columns=["done", "failed", "first", "last", "exec_host"])
    if db["_run_id"].isna().any():  # rows not written by a run (e.g. df_write of a hand-made frame)
        db = db[db["_run_id"].notna()]
        if len(db) == 0:
            return pd.DataFrame(columns=["done", "failed", "first", "last", "exec_host"])
    n = len(db)
    codes, first_row = group_runs(db)
    run_ids = db["_run_id"].iloc[first_row].to_numpy()
    groups = len(first_row)
    failed = failed_mask(db)
    start = np.full(n, np.datetime64("NaT", "ns").view(np.int64))
    if "_time_utc" in db.columns:
        times = db["_time_utc"]
        if not pd.api.types.is_datetime64_dtype(times):
            times = pd.to_datetime(times, errors="coerce")
        start = times.to_numpy("datetime64[ns]").view(np.int64)
    runtime = np.zeros(n)
    if "_pset_runtime" in db.columns:
        runtime = db["_pset_runtime"]
        if not pd.api.types.is_float_dtype(runtime):
            runtime = pd.to_numeric(runtime, errors="coerce")
        runtime = np.nan_to_num(runtime.to_numpy(float))
    end = start + (runtime * 1e9).astype(np.int64)
    first = np.full(groups, np.iinfo(np.int64).max)
    np.minimum.at(first, codes, start)
    last = np.full(groups, np.iinfo(np.int64).min)
    np.maximum.at(last, codes, end)
    hosts = db["_exec_host"].iloc[first_row].to_numpy() if "_exec_host" in db.columns else None
    return pd.DataFrame(
        {
            "done": np.bincount(codes, minlength=groups),
            "failed": np.bincount(codes, weights=failed, minlength=groups).astype(np.int64),
            "first": first.view("datetime64[ns]"),
            "last": last.view("datetime64[ns]"),
            "exec_host": hosts,
        },
        index=pd.Index(run_ids, name="_run_id").astype(str),
    )


def group_runs(db: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Which run each row of `db` belongs to, fast on millions of rows.

    Groups by the integer ``_run_seq`` (one per run; hashing ints is many
    times faster than hashing the ``_run_id`` strings), and by ``_run_id``
    where that fails (no ``_run_seq``, or databases concatenated by hand
    whose runs share numbers).

    Parameters
    ----------
    db
        A database with a ``_run_id`` column.

    Returns
    -------
    codes : numpy.ndarray
        Per row, the number of its run (0, 1, ... in order of appearance).
    first_row : numpy.ndarray
        Per run number, the position of its first row.

    Examples
    --------
    >>> import pandas as pd
    >>> from psweep.provenance._status import group_runs
    >>> db = pd.DataFrame({"_run_id": ["r1", "r2", "r1"], "_run_seq": [0, 1, 0]})
    >>> codes, first_row = group_runs(db)
    >>> codes.tolist(), first_row.tolist()
    ([0, 1, 0], [0, 1])
    """
    if "_run_seq" in db.columns and db["_run_seq"].notna().all():
        codes, _ = pd.factorize(db["_run_seq"].to_numpy())
        first_row, last_row = _first_and_last_rows(codes)
        run_id = db["_run_id"]
        if (run_id.iloc[first_row].to_numpy() == run_id.iloc[last_row].to_numpy()).all():
            return codes, first_row
    codes, _ = pd.factorize(db["_run_id"].astype(str))
    return codes, _first_and_last_rows(codes)[0]


def _first_and_last_rows(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of the first and the last row of each group code."""
    groups = int(codes.max()) + 1
    rows = np.arange(len(codes))
    first = np.full(groups, len(codes))
    np.minimum.at(first, codes, rows)
    last = np.full(groups, -1)
    np.maximum.at(last, codes, rows)
    return first, last


def _liveness(
    info: dict[str, Any], provenance_locked: bool, journal_live: bool, record_age: float | None
) -> tuple[bool, float | None]:
    """Whether the run's driver still runs, and for how long no sign of it came.

    A lock alone can outlive the driver by seconds: workers forked by a
    pool inherit its open files. On the driver's own host its pid decides.
    A driver of another host may hold locks this host does not see (a
    cluster mount with node-local locks): its run record, which its
    heartbeat refreshes, tells that it lives until the liveness timeout.
    The second value: seconds since that record last changed, where only
    the heartbeat says the run lives (None otherwise).
    """
    pid = info.get("pid")
    if isinstance(pid, int) and info.get("host") == this_host():
        return (provenance_locked or journal_live) and pid_exists(pid), None
    if provenance_locked:
        return True, None
    fresh = record_age is not None and record_age < liveness_timeout()
    if not (fresh or journal_live):
        return False, None
    silent = record_age if record_age is not None and record_age > 2 * heartbeat_interval() else None
    return True, silent


def _status(
    run_id: str,
    info: dict[str, Any],
    row: pd.Series | None,
    live: bool,
    has_journal: bool,
    now: pd.Timestamp,
    calc_dir: str,
) -> dict[str, Any]:
    """The status record of one run."""
    end = info.get("end")
    if isinstance(end, dict) and end.get("state") in STATES:
        state = end["state"]
    elif live:
        state = "running"
    elif "planned" in info or has_journal:
        state = "killed"  # started as a run that writes an end marker, has none
    else:
        state = "unknown"
    planned = info.get("planned")
    done = 0 if row is None else int(row["done"])
    start = pd.Timestamp(info["start_utc"]) if info.get("start_utc") else None
    if start is None and row is not None:
        start = row["first"]
    rate = eta = np.nan
    if state == "running" and start is not None:
        elapsed = (now - start).total_seconds()
        if elapsed > 0 and done > 0:
            rate = done / elapsed
            if isinstance(planned, int):
                eta = pd.Timedelta(seconds=max(planned - done, 0) / rate)
    source = source_path(calc_dir, run_id)
    return {
        "_run_id": run_id,
        "state": state,
        "planned": planned,
        "done": done,
        "failed": 0 if row is None else int(row["failed"]),
        "start": start,
        "last_row": None if row is None else row["last"],
        "rows_per_s": rate,
        "eta": eta,
        "host": info.get("host") or (None if row is None else row["exec_host"]),
        "source": source if os.path.exists(source) else None,
    }
