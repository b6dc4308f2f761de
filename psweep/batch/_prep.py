"""Studies on a batch system without Dask: pset folders and job scripts.

:func:`prep_batch` is one :func:`psweep.run` whose function
(:mod:`psweep.batch._writer`) fills the templates
(:mod:`psweep.batch._templates`) into ``<calc_dir>/<_pset_id>/``; rows,
``skip_dups``, backups, simulate, locks and journals are the run's. After
the run it writes, under the database lock (:mod:`psweep.batch._jobscripts`), a submit script per machine
(``<calc_dir>/run_<machine>.sh``) and, for machines that use them, one job
array per run. psweep never submits or polls jobs: you run the script.
:func:`~psweep.df_gather` (:mod:`psweep.batch._gather`) reads the jobs' output
files back into the database frame.

Files written, for ``calc_dir="calc"`` and a machine ``cluster``::

    calc/<_pset_id>/...                 the filled calc templates
    calc/<_pset_id>/jobscript_cluster   the filled job script
    calc/<_pset_id>/pset.pk             the pset (write_pset=True)
    calc/run_cluster.sh                 submits the new psets (or arrays)
    calc/array_cluster_run<R>.txt       job array of run R: its pset folders
    calc/array_cluster_run<R>.sh        job array of run R: the job script
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pandas as pd

from psweep._schema import PSET_FILE, journal_run_id
from psweep.store import write_fix
from psweep.errors import ParamsError, PsweepError, StoreWriteError, TemplateError
from psweep.provenance import code_hash
from psweep.store import database_name
from psweep.engine import skip_done
from psweep.engine import check_lock_timeout
from psweep.engine import PlannedPsets, plan_psets
from psweep.engine import prepare_simulate_dir, run
from psweep.store import DEFAULT_LOCK_TIMEOUT, Store
from psweep.batch._jobscripts import listed_runs, write_submit_files
from psweep.batch._machines import Machine, gather_machines
from psweep.batch._discovery import gather_calc_templates
from psweep.batch._filling import TEMPLATE_MODES
from psweep.batch._templates import FileTemplate
from psweep.batch._writer import PsetWriter

__all__ = ["prep_batch"]

# Stands in for the bookkeeping values run() assigns, when the templates are
# checked against every pset before the run starts.
_STAND_IN_ID = "00000000-0000-4000-8000-000000000000"


def prep_batch(
    params: Iterable[Mapping[str, Any]],
    *,
    calc_templ_dir: str | os.PathLike[str] = "templates/calc",
    machine_templ_dir: str | os.PathLike[str] = "templates/machines",
    git: bool = False,
    write_pset: bool = False,
    template_mode: str = "jinja",
    array: bool = False,
    **run_kwds: Any,
) -> pd.DataFrame:
    """Write a folder of filled-in templates per pset, and scripts that submit their jobs.

    One :func:`~psweep.run` over `params` whose function writes every file
    of `calc_templ_dir` (subfolders and linked folders included, same
    names; text in its own encoding) and each machine's job script
    ``jobscript_<machine>`` into ``<calc_dir>/<_pset_id>/``. Then, per machine, ``<calc_dir>/run_<machine>.sh``
    gets one line per pset, ``(cd <pset dir> && <subcmd> jobscript_<machine>)``;
    lines of runs listed there before this call started are commented out,
    so running the script submits the new psets only (a call that prepares
    no new pset leaves the lines as they are). Two calls on one calc dir at
    the same time lose no line.

    Parameters
    ----------
    params
        The psets, as for :func:`~psweep.run`.
    calc_templ_dir
        Folder of the files each pset gets.
    machine_templ_dir
        One subfolder per machine (named with letters, digits, ``_.-+``),
        each with ``info.yaml`` (``subcmd:``, the submit command; optional
        ``scheduler:``, ``array:``, ``array_limit:``, ``max_array_size:``)
        and a ``jobscript`` template.
    git
        Record the git commit and diff of the study, as ``run(git=True)``.
    write_pset
        Also write each pset (bookkeeping keys included) to
        ``<calc_dir>/<_pset_id>/pset.pk``.
    template_mode
        ``"jinja"`` (``{{name}}``; a placeholder no pset key fills is an
        error) or ``"dollar"`` (``$name``, :class:`string.Template`).
    array
        Submit each run as one job array on every machine with a batch
        system (``scheduler:`` in ``info.yaml``, or ``subcmd: sbatch``):
        ``<calc_dir>/array_<machine>_run<R>.txt`` lists the run's pset
        folders, ``array_<machine>_run<R>.sh`` runs task *k* in folder *k*,
        and ``run_<machine>.sh`` submits it with ``sbatch --array=0-<n-1>``
        (PBS ``-J``, SGE ``-t``). ``array: true`` in ``info.yaml`` does the
        same for one machine. A run of more psets than the machine's
        ``max_array_size`` (default 1000) is submitted as several array
        jobs, ``array_<machine>_run<R>_part<k>.sh``, each running its
        slice of the list.
    **run_kwds
        Passed to :func:`~psweep.run`: `calc_dir`, `skip_dups`, `backup`,
        `simulate` (fills the templates into ``<calc_dir>.simulate/``), ...

    Returns
    -------
    pandas.DataFrame
        The database after the run, as :func:`~psweep.run` returns it.

    Raises
    ------
    TemplatePlaceholderError
        A template placeholder that a pset does not fill (naming the file,
        the key and the pset); also a ``KeyError``, as in psweep 0.16.
    TemplateError
        A bad machine folder, clashing file names, a link in
        `calc_templ_dir` that points nowhere or into a loop, a value that
        an 8-bit text template cannot hold; raised before anything is
        written.
    MissingDependencyError
        jinja2 or pyyaml is not installed (``pip install 'psweep[batch]'``).

    Examples
    --------
    >>> import psweep as ps
    >>> from pathlib import Path
    >>> Path("templates/calc").mkdir(parents=True)
    >>> Path("templates/machines/local").mkdir(parents=True)
    >>> _ = Path("templates/calc/input.txt").write_text("a = {{a}}\\n")
    >>> _ = Path("templates/machines/local/info.yaml").write_text("subcmd: sh\\n")
    >>> _ = Path("templates/machines/local/jobscript").write_text("cat input.txt > out.txt\\n")
    >>> df = ps.prep_batch(ps.plist("a", [1, 2]))
    >>> sorted(p.name for p in (Path("calc") / df._pset_id.iloc[0]).iterdir())
    ['input.txt', 'jobscript_local']
    >>> print((Path("calc") / df._pset_id.iloc[1] / "input.txt").read_text(), end="")
    a = 2
    >>> Path("calc/run_local.sh").read_text().count("sh jobscript_local")
    2
    """
    if template_mode not in TEMPLATE_MODES:
        raise ParamsError(f"template_mode={template_mode!r}: use one of {TEMPLATE_MODES}.")
    if "func" in run_kwds:
        raise ParamsError("prep_batch writes files instead of calling a function: drop func=.")
    if isinstance(params, Iterator):
        params = list(params)
    calc_dir = os.fspath(run_kwds.pop("calc_dir", "calc"))
    # The database the calc dir holds (0.16's database.pk in a 0.16 calc
    # dir), decided once: the check, the run and the submit scripts share it.
    basename = database_name(calc_dir, run_kwds.pop("database_basename", None))
    lock_timeout = check_lock_timeout(run_kwds.pop("lock_timeout", DEFAULT_LOCK_TIMEOUT))
    simulate = bool(run_kwds.pop("simulate", False))
    save = run_kwds.get("save", True)

    planned = plan_psets(params)
    machines = gather_machines(machine_templ_dir)
    templates = gather_calc_templates(calc_templ_dir) + [m.template for m in machines]
    _check_names(templates, write_pset)
    array_machines = _array_machines(machines, array)
    # Runs already listed in the submit scripts: this call comments them out.
    announced = listed_runs(calc_dir, machines)
    writer = PsetWriter(templates, template_mode, write_pset)
    n_new = _check_fill(planned, writer, calc_dir, basename, lock_timeout, save, run_kwds)
    if n_new == 0:
        # Nothing new (all skipped as done): the listed runs stay as they
        # are, so re-running a study script before submitting loses nothing.
        announced = set()

    if simulate:
        calc_dir = prepare_simulate_dir(calc_dir, basename, lock_timeout)
        run_kwds["backup"] = False
        run_kwds.pop("backup_calc_dir", None)
    df = run(writer, params, calc_dir=calc_dir, database_basename=basename,
             lock_timeout=lock_timeout, git=git, **run_kwds)
    store = Store(calc_dir, basename, lock_timeout)
    if save:
        with _writing_scripts(calc_dir), store.locked():
            live = {journal_run_id(path) for path, is_live, _ in store.journal_status() if is_live}
            db = store.fold()
            if len(db):
                db = db[~db["_run_id"].isin(live)]
            write_submit_files(calc_dir, machines, array_machines, db, announced)
    else:
        write_submit_files(calc_dir, machines, array_machines, df, announced)
    return df


@contextlib.contextmanager
def _writing_scripts(calc_dir: str) -> Iterator[None]:
    """Turn an OSError of writing the submit scripts into a StoreWriteError that says what to fix."""
    try:
        yield
    except PsweepError:
        raise
    except OSError as exc:
        raise StoreWriteError(
            f"prep_batch could not write the submit scripts run_<machine>.sh in "
            f"{calc_dir!r} ({exc}); the run's rows and pset folders are saved. "
            f"{write_fix(exc, calc_dir)}"
        ) from exc


def _check_names(templates: list[FileTemplate], write_pset: bool) -> None:
    seen: dict[str, str] = {PSET_FILE: "write_pset=True"} if write_pset else {}
    for templ in templates:
        other = seen.get(templ.targetname)
        if other is not None:
            raise TemplateError(
                f"two files would be written as {templ.targetname!r} in each pset "
                f"folder: from {other!r} and {templ.filename!r}. Rename one of them."
            )
        seen[templ.targetname] = templ.filename


def _array_machines(machines: list[Machine], array: bool) -> list[Machine]:
    chosen = [m for m in machines if m.array or (array and m.scheduler is not None)]
    if array and not chosen:
        names = ", ".join(repr(m.name) for m in machines) or "none"
        raise TemplateError(
            f"array=True, but no machine has a batch system for job arrays "
            f"(machines: {names}). Add 'scheduler: slurm' (or pbs, sge) to a "
            f"machine's info.yaml; 'subcmd: sbatch' implies slurm."
        )
    return chosen


def _check_fill(
    planned: PlannedPsets,
    writer: PsetWriter,
    calc_dir: str,
    basename: str,
    lock_timeout: float,
    save: bool,
    run_kwds: dict[str, Any],
) -> int:
    """Fill every template for every pset that will run, in memory, before the run.

    So an unfilled placeholder stops the study before any pset folder or
    row is written. Psets skip_dups will skip are not checked. Returns
    how many psets will run.
    """
    todo = list(enumerate(planned))
    if run_kwds.get("skip_dups"):
        store = Store(calc_dir, basename, lock_timeout)
        db = store.read() if save and store.exists() else run_kwds.get("df")
        if db is not None and len(db):
            # the writer's code hash: "same-code" re-runs what run() will re-run
            keep = set(skip_done(planned, db, run_kwds["skip_dups"], calc_dir, code_hash(writer)).hashes)
            todo = [(i, p) for i, p in todo if p["_pset_hash"] in keep]
    stand_ins = {"_run_id": _STAND_IN_ID, "_pset_id": _STAND_IN_ID, "_calc_dir": calc_dir,
                 "_run_seq": 0, "_pset_seq": 0}
    for index, pset in todo:
        context = {**pset, **stand_ins}
        for templ in writer.templates:
            try:
                templ.render(context, writer.mode)
            except TemplateError as exc:
                shown = {k: v for k, v in pset.items() if not k.startswith("_")}
                # The same class: an unfilled placeholder stays a KeyError.
                raise type(exc)(f"pset #{index} {shown!r:.200}: {exc} Nothing was written.") from None
    return len(todo)
