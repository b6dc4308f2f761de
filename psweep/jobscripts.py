"""The submit scripts of :func:`psweep.prep_batch`: ``run_<machine>.sh`` and job arrays.

They are rebuilt from the database after each prep_batch run, under the
database lock, so runs that finish one after the other each leave every
line in place. A line ends with a tag, ``# run_seq=R pset_seq=S`` (or
``# run_seq=R array of N psets``), that says which run it belongs to.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import tempfile

import pandas as pd

from psweep.machines import SCHEDULERS, Machine

__all__ = ["array_names", "listed_runs", "run_script_name", "write_submit_files"]

# The trailing comment of each submit line: which run (and pset) it is.
_LINE_TAG = re.compile(r"#\s*run_seq=(\d+)(?:\s+pset_seq=(\d+))?[^#]*$")


def run_script_name(machine: Machine) -> str:
    """File name of `machine`'s submit script in the calc dir.

    Parameters
    ----------
    machine
        The machine.

    Returns
    -------
    str

    Examples
    --------
    >>> import psweep as ps
    >>> from pathlib import Path
    >>> from psweep.jobscripts import array_names, run_script_name
    >>> Path("cluster").mkdir()
    >>> _ = (Path("cluster") / "info.yaml").write_text("subcmd: sbatch\\n")
    >>> _ = (Path("cluster") / "jobscript").write_text("python3 run.py\\n")
    >>> machine = ps.Machine(Path("cluster"))
    >>> run_script_name(machine), array_names(machine, 3)
    ('run_cluster.sh', ('array_cluster_run3.txt', 'array_cluster_run3.sh'))
    """
    return f"run_{machine.name}.sh"


def array_names(machine: Machine, run_seq: int) -> tuple[str, str]:
    """File names of run `run_seq`'s job array on `machine`.

    Parameters
    ----------
    machine
        The machine.
    run_seq
        The run's ``_run_seq``.

    Returns
    -------
    (str, str)
        The list of pset folders and the array job script (see
        :func:`run_script_name` for an example).
    """
    stem = f"array_{machine.name}_run{run_seq}"
    return stem + ".txt", stem + ".sh"



def listed_runs(calc_dir: str, machines: list[Machine]) -> set[int]:
    """The ``_run_seq`` of every run listed in a submit script of `calc_dir`.

    Parameters
    ----------
    calc_dir
        The calc dir.
    machines
        Whose ``run_<machine>.sh`` to read; a missing script lists nothing.

    Returns
    -------
    set of int
    """
    runs = set()
    for machine in machines:
        for _, run_seq, _ in _read_lines(os.path.join(calc_dir, run_script_name(machine))):
            runs.add(run_seq)
    return runs


def _read_lines(path: str) -> list[tuple[str, int, bool]]:
    """The submit lines of a run script: (line, run_seq, commented out)."""
    try:
        with open(path, encoding="utf-8") as fd:
            text = fd.read()
    except FileNotFoundError:
        return []
    lines = []
    for line in text.splitlines():
        match = _LINE_TAG.search(line)
        if match:
            lines.append((line, int(match.group(1)), line.lstrip().startswith("#")))
    return lines


def write_submit_files(
    calc_dir: str,
    machines: list[Machine],
    array_machines: list[Machine],
    db: pd.DataFrame,
    announced: set[int],
) -> None:
    """Write every machine's run script (and new job arrays) from the rows in `db`.

    Parameters
    ----------
    calc_dir
        Where to write, the folder of the pset folders.
    machines
        All machines; `array_machines` those with job arrays.
    db
        The rows to list (of finished or dead runs, not of live ones).
    announced
        Runs listed in a submit script before this prep_batch call started.

    Call with the database lock held: the scripts are rebuilt from the
    database, so two prep_batch calls finishing one after the other each
    write every line. A run's lines are commented out if the run was listed
    before this call started, or the script already had them commented.
    """
    if len(db) == 0 or "_pset_id" not in db.columns:
        return
    rows = db
    if "_failed" in rows.columns:
        rows = rows[~rows["_failed"].fillna(False).astype(bool)]
    rows = rows.sort_values("_pset_seq", kind="stable")
    for machine in machines:
        script = os.path.join(calc_dir, run_script_name(machine))
        commented = set(announced)
        commented.update(seq for _, seq, is_comment in _read_lines(script) if is_comment)
        by_run: dict[int, list[tuple[str, int]]] = {}
        for pset_id, pset_seq, run_seq in zip(rows["_pset_id"], rows["_pset_seq"], rows["_run_seq"]):
            run_seq = int(run_seq)
            # A row of a plain run() in the same calc dir has no job script.
            if run_seq not in commented and not os.path.exists(
                os.path.join(calc_dir, pset_id, machine.template.targetname)
            ):
                continue
            by_run.setdefault(run_seq, []).append((pset_id, int(pset_seq)))
        lines = []
        for run_seq, psets in by_run.items():
            prefix = "# " if run_seq in commented else ""
            list_name, array_script = array_names(machine, run_seq)
            if machine in array_machines and run_seq not in commented:
                if not os.path.exists(os.path.join(calc_dir, list_name)):
                    _write_array(calc_dir, machine, run_seq, [p for p, _ in psets])
            if os.path.exists(os.path.join(calc_dir, list_name)):
                n_tasks = _count_lines(os.path.join(calc_dir, list_name))
                option = SCHEDULERS[machine.scheduler or "slurm"].array_option(
                    n_tasks, machine.array_limit)
                cmd = " ".join(x for x in (machine.subcmd, option, array_script) if x)
                lines.append(f'{prefix}(cd "$here" && {cmd})  # run_seq={run_seq} array of {n_tasks} psets')
                continue
            job = shlex.quote(machine.template.targetname)
            lines.extend(
                f'{prefix}(cd "$here/{pset_id}" && {machine.subcmd} {job})  # run_seq={run_seq} pset_seq={seq}'
                for pset_id, seq in psets
            )
        header = (
            "#!/bin/sh\n"
            f"# Submits the jobs of machine {machine.name!r}; written by psweep.prep_batch.\n"
            "# Lines of runs that were listed here before the latest prep_batch call\n"
            "# are commented out: running this script submits the new psets only.\n"
            'here=$(cd "$(dirname "$0")" && pwd)\n'
        )
        _write_atomic(script, (header + "".join(line + "\n" for line in lines)).encode(), 0o755)


def _count_lines(path: str) -> int:
    with open(path, encoding="utf-8") as fd:
        return sum(1 for line in fd if line.strip())


def _write_array(calc_dir: str, machine: Machine, run_seq: int, pset_ids: list[str]) -> None:
    """Write the pset folder list and the job script of one run's job array."""
    list_name, script_name = array_names(machine, run_seq)
    sched = SCHEDULERS[machine.scheduler or "slurm"]
    jobscript = machine.template.targetname
    with open(os.path.join(calc_dir, pset_ids[0], jobscript), encoding="utf-8", errors="replace") as fd:
        first = fd.read().splitlines()
    interpreter = first[0][2:].strip() if first and first[0].startswith("#!") else "sh"
    # The batch system reads its options from the comment block at the top,
    # so the first pset's options are the whole array's.
    options = []
    for line in first[1:] if first and first[0].startswith("#!") else first:
        if line.strip() and not line.startswith("#"):
            break
        if line.startswith(sched.directive):
            options.append(line)
    first_task = sched.first_task
    text = "\n".join([
        "#!/bin/sh",
        *options,
        f"# Job array of psweep.prep_batch on machine {machine.name!r}: {len(pset_ids)} tasks,",
        f"# task k runs {jobscript} in the pset folder on line k+{1 - first_task} of {list_name}.",
        f"task=${{{sched.task_var}:-{first_task}}}",
        f"case $task in ''|*[!0-9]*) task={first_task} ;; esac",
        f'cd "${{{sched.submit_dir_var}:-$(dirname "$0")}}" || exit 1',
        f'pset_dir=$(sed -n "$((task + {1 - first_task}))p" {list_name})',
        'if [ -z "$pset_dir" ]; then',
        f'    echo "{script_name}: no pset folder for task $task in {list_name}" >&2',
        "    exit 1",
        "fi",
        'cd "$pset_dir" || exit 1',
        f"exec {interpreter} {shlex.quote(jobscript)}",
        "",
    ])
    _write_atomic(os.path.join(calc_dir, list_name), "".join(p + "\n" for p in pset_ids).encode(), 0o644)
    _write_atomic(os.path.join(calc_dir, script_name), text.encode(), 0o755)


def _write_atomic(path: str, data: bytes, mode: int) -> None:
    """Write `path` through a temporary file and ``os.replace``: never torn."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
