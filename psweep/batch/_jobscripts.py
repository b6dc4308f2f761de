"""The submit scripts of :func:`psweep.prep_batch`: ``run_<machine>.sh`` and job arrays.

They are rebuilt from the database after each prep_batch run, under the
database lock, so runs that finish one after the other each leave every
line in place. A line ends with a tag, ``# run_seq=R pset_seq=S`` (or
``# run_seq=R array of N psets``), that says which run it belongs to.
"""

from __future__ import annotations

import os
import re
import shlex

import pandas as pd

from psweep._schema import failed_mask
from psweep._files import write_atomic
from psweep.batch._machines import SCHEDULERS, Machine

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
    >>> from psweep.batch._jobscripts import array_names, run_script_name
    >>> Path("cluster").mkdir()
    >>> _ = (Path("cluster") / "info.yaml").write_text("subcmd: sbatch\\n")
    >>> _ = (Path("cluster") / "jobscript").write_text("python3 run.py\\n")
    >>> machine = ps.Machine(Path("cluster"))
    >>> run_script_name(machine), array_names(machine, 3)
    ('run_cluster.sh', ('array_cluster_run3.txt', 'array_cluster_run3.sh'))
    """
    return f"run_{machine.name}.sh"


def array_names(machine: Machine, run_seq: int, part: int | None = None) -> tuple[str, str]:
    """File names of run `run_seq`'s job array on `machine`.

    Parameters
    ----------
    machine
        The machine.
    run_seq
        The run's ``_run_seq``.
    part
        For a run split into several array jobs (more psets than the
        machine's ``max_array_size``): the number of the part, from 1.

    Returns
    -------
    (str, str)
        The list of the run's pset folders and the array job script (see
        :func:`run_script_name` for an example).
    """
    stem = f"array_{machine.name}_run{run_seq}"
    script = stem + ("" if part is None else f"_part{part}") + ".sh"
    return stem + ".txt", script


def array_parts(n_tasks: int, max_size: int) -> list[tuple[int, int]]:
    """How a run of `n_tasks` psets splits into array jobs of at most `max_size` tasks.

    Parameters
    ----------
    n_tasks
        Psets of the run.
    max_size
        Most tasks one array job may have.

    Returns
    -------
    list of (int, int)
        Per array job: the position of its first pset in the run's list,
        and its number of tasks.

    Examples
    --------
    >>> from psweep.batch._jobscripts import array_parts
    >>> array_parts(2500, 1000)
    [(0, 1000), (1000, 1000), (2000, 500)]
    >>> array_parts(3, 1000)
    [(0, 3)]
    """
    return [(first, min(max_size, n_tasks - first)) for first in range(0, n_tasks, max_size)]


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
    rows = db[~failed_mask(db)]
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
            list_name, _ = array_names(machine, run_seq)
            if machine in array_machines and run_seq not in commented:
                if not os.path.exists(os.path.join(calc_dir, list_name)):
                    _write_array(calc_dir, machine, run_seq, [p for p, _ in psets])
            if os.path.exists(os.path.join(calc_dir, list_name)):
                lines.extend(prefix + line for line in _array_lines(calc_dir, machine, run_seq))
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
        text = (header + "".join(line + "\n" for line in lines)).encode()
        write_atomic(script, text, mode=0o755, unless_same=True)


def _count_lines(path: str) -> int:
    with open(path, encoding="utf-8") as fd:
        return sum(1 for line in fd if line.strip())


# The line of a part's script that says which psets of the list it runs.
_PART_TAG = re.compile(r"^# psweep array part: first=(\d+) tasks=(\d+)$", re.MULTILINE)


def _array_lines(calc_dir: str, machine: Machine, run_seq: int) -> list[str]:
    """The submit lines of run `run_seq`'s array jobs, from the files on disk."""
    sched = SCHEDULERS[machine.scheduler or "slurm"]
    list_name, script = array_names(machine, run_seq)
    if os.path.exists(os.path.join(calc_dir, script)):  # one array job
        n_tasks = _count_lines(os.path.join(calc_dir, list_name))
        parts = [(script, n_tasks, f"array of {_psets(n_tasks)}")]
    else:
        parts = []
        while True:
            script = array_names(machine, run_seq, len(parts) + 1)[1]
            try:
                with open(os.path.join(calc_dir, script), encoding="utf-8") as fd:
                    match = _PART_TAG.search(fd.read())
            except FileNotFoundError:
                break
            n_tasks = int(match.group(2)) if match else 0
            parts.append((script, n_tasks, f"array part {len(parts) + 1}, {_psets(n_tasks)}"))
    lines = []
    for script, n_tasks, what in parts:
        option = sched.array_option(n_tasks, machine.array_limit)
        cmd = " ".join(x for x in (machine.subcmd, option, shlex.quote(script)) if x)
        lines.append(f'(cd "$here" && {cmd})  # run_seq={run_seq} {what}')
    return lines


def _psets(n: int) -> str:
    return f"{n} pset" + ("" if n == 1 else "s")


def _write_array(calc_dir: str, machine: Machine, run_seq: int, pset_ids: list[str]) -> None:
    """Write the pset folder list and the job script(s) of one run's job array.

    A run of more psets than ``machine.max_array_size`` gets one script per
    part (:func:`array_parts`), each running its slice of the list.
    """
    list_name, _ = array_names(machine, run_seq)
    jobscript = machine.template.targetname
    with open(os.path.join(calc_dir, pset_ids[0], jobscript), encoding="utf-8", errors="replace") as fd:
        first = fd.read().splitlines()
    interpreter = first[0][2:].strip() if first and first[0].startswith("#!") else "sh"
    # The batch system reads its options from the comment block at the top,
    # so the first pset's options are the whole array's.
    options = []
    directive = SCHEDULERS[machine.scheduler or "slurm"].directive
    for line in first[1:] if first and first[0].startswith("#!") else first:
        if line.strip() and not line.startswith("#"):
            break
        if line.startswith(directive):
            options.append(line)
    parts = array_parts(len(pset_ids), machine.max_array_size)
    for number, (offset, n_tasks) in enumerate(parts, start=1):
        script_name = array_names(machine, run_seq, None if len(parts) == 1 else number)[1]
        text = _array_script(machine, options, interpreter, list_name, script_name, offset, n_tasks,
                             len(parts) > 1)
        write_atomic(os.path.join(calc_dir, script_name), text.encode(), mode=0o755, unless_same=True)
    # The list last: where it exists, so do the scripts (write_submit_files
    # writes an array only where its list is missing).
    listing = "".join(p + "\n" for p in pset_ids).encode()
    write_atomic(os.path.join(calc_dir, list_name), listing, mode=0o644, unless_same=True)


def _array_script(machine: Machine, options: list[str], interpreter: str, list_name: str,
                  script_name: str, offset: int, n_tasks: int, is_part: bool) -> str:
    """The job script of one array job: task k runs the pset folder on line offset + k of the list."""
    sched = SCHEDULERS[machine.scheduler or "slurm"]
    first, last = sched.first_task, sched.first_task + n_tasks - 1
    jobscript = machine.template.targetname
    where = f"lines {offset + 1}-{offset + n_tasks}" if is_part else "its lines"
    return "\n".join([
        "#!/bin/sh",
        *options,
        f"# Job array of psweep.prep_batch on machine {machine.name!r}: {_psets(n_tasks)},",
        f"# task k runs {jobscript} in the pset folder on line k+{offset + 1 - first} of {list_name} ({where}).",
        *([f"# psweep array part: first={offset} tasks={n_tasks}"] if is_part else []),
        f"task=${{{sched.task_var}:-{first}}}",
        f"case $task in ''|*[!0-9]*) task={first} ;; esac",
        f'cd "${{{sched.submit_dir_var}:-$(dirname "$0")}}" || exit 1',
        "pset_dir=",
        f'if [ "$task" -ge {first} ] && [ "$task" -le {last} ]; then',
        f'    pset_dir=$(sed -n "$((task + {offset + 1 - first}))p" {shlex.quote(list_name)})',
        "fi",
        'if [ -z "$pset_dir" ]; then',
        f'    echo "{script_name}: no pset folder for task $task in {list_name} (tasks {first}-{last})" >&2',
        "    exit 1",
        "fi",
        'cd "$pset_dir" || exit 1',
        f"exec {interpreter} {shlex.quote(jobscript)}",
        "",
    ])


