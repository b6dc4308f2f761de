"""Machines to submit jobs on, for :func:`psweep.prep_batch`, and how their batch systems run job arrays.

A machine is a folder ``templates/machines/<name>/`` with an ``info.yaml``
(the submit command and array settings) and a ``jobscript`` template.
pyyaml is optional (``pip install 'psweep[batch]'``) and imported only when
a machine is read.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
from typing import Any

from psweep.errors import TemplateError
from psweep.batch._discovery import check_folder
from psweep.batch._optional import require
from psweep.batch._templates import FileTemplate

__all__ = ["MAX_ARRAY_SIZE", "Machine", "Scheduler", "SCHEDULERS", "gather_machines"]


@dataclasses.dataclass(frozen=True)
class Scheduler:
    """How one batch system runs job arrays.

    Attributes
    ----------
    name : str
        ``"slurm"``, ``"pbs"`` or ``"sge"``.
    directive : str
        Prefix of its option lines in job scripts, e.g. ``"#SBATCH"``.
    task_var : str
        Environment variable holding the task's index.
    first_task : int
        Index of the first task (SGE counts from 1).
    submit_dir_var : str
        Environment variable holding the folder the job was submitted from.
    """

    name: str
    directive: str
    task_var: str
    first_task: int
    submit_dir_var: str

    def array_option(self, n_tasks: int, limit: int | None = None) -> str:
        """The submit command's option for an array of `n_tasks` tasks.

        Parameters
        ----------
        n_tasks
            Number of tasks (psets).
        limit
            At most this many tasks running at once.

        Returns
        -------
        str
            Empty for a single task (PBS refuses arrays of one).

        Examples
        --------
        >>> from psweep.batch._machines import SCHEDULERS
        >>> SCHEDULERS["slurm"].array_option(5000, limit=50)
        '--array=0-4999%50'
        >>> SCHEDULERS["sge"].array_option(10)
        '-t 1-10'
        """
        if n_tasks < 2:
            return ""
        first, last = self.first_task, self.first_task + n_tasks - 1
        if self.name == "slurm":
            return f"--array={first}-{last}" + (f"%{limit}" if limit else "")
        if self.name == "pbs":
            return f"-J {first}-{last}" + (f"%{limit}" if limit else "")
        return f"-t {first}-{last}" + (f" -tc {limit}" if limit else "")


SCHEDULERS = {
    "slurm": Scheduler("slurm", "#SBATCH", "SLURM_ARRAY_TASK_ID", 0, "SLURM_SUBMIT_DIR"),
    "pbs": Scheduler("pbs", "#PBS", "PBS_ARRAY_INDEX", 0, "PBS_O_WORKDIR"),
    "sge": Scheduler("sge", "#$", "SGE_TASK_ID", 1, "SGE_O_WORKDIR"),
}

# Attributes of Machine that info.yaml must not replace.
_RESERVED = ("name", "dir", "template", "info", "info_path")

#: Default of ``max_array_size``: tasks per array job. SLURM's default
#: MaxArraySize (1001) allows task ids 0-1000; PBS and SGE allow more.
MAX_ARRAY_SIZE = 1000

# A machine's name is part of file names that shells and batch systems
# read (jobscript_<name>, run_<name>.sh, array_<name>_run<R>.sh).
_SAFE_NAME = re.compile(r"[\w.+-]+")
_UNSAFE_RUN = re.compile(r"[^\w.+-]+")


class Machine:
    """A machine to submit jobs on: ``<machine_dir>/info.yaml`` and its job script template.

    Parameters
    ----------
    machine_dir
        E.g. ``templates/machines/cluster``; its name is the machine's name.
    jobscript_name
        The job script template's file name in `machine_dir`.

    Attributes
    ----------
    name : str
        The folder's name.
    template : FileTemplate
        The job script, written as ``jobscript_<name>`` into each pset folder.
    info : dict
        ``info.yaml`` as read. Each of its keys is also an attribute.
    subcmd : str
        Command that submits a job script (``sbatch``, ``qsub``, ``sh``); required.
    scheduler : str or None
        ``slurm``, ``pbs`` or ``sge`` for job arrays; default ``slurm`` if
        `subcmd` is ``sbatch``, else None (no arrays).
    array : bool
        Write a job array per run for this machine (default False).
    array_limit : int or None
        At most this many tasks of one array job at once (SLURM/PBS
        ``%K``, SGE ``-tc``).
    max_array_size : int
        At most this many tasks per array job (default 1000, as SLURM's
        default ``MaxArraySize`` of 1001 allows; for SLURM, PBS and SGE
        alike): a run with more psets is submitted as several array jobs.
        Set it to your site's limit.

    Raises
    ------
    TemplateError
        A machine folder whose name is not letters, digits, ``_``, ``.``,
        ``-`` or ``+`` (e.g. holds a space), a missing ``info.yaml`` or job
        script, or a bad value in ``info.yaml``; the message names the file.

    Examples
    --------
    >>> import psweep as ps
    >>> from pathlib import Path
    >>> mdir = Path("machines") / "cluster"
    >>> mdir.mkdir(parents=True)
    >>> _ = (mdir / "info.yaml").write_text("subcmd: sbatch\\narray_limit: 20\\n")
    >>> _ = (mdir / "jobscript").write_text("#SBATCH --time=00:10:00\\npython3 run.py\\n")
    >>> m = ps.Machine(mdir)
    >>> m.name, m.subcmd, m.scheduler, m.template.targetname
    ('cluster', 'sbatch', 'slurm', 'jobscript_cluster')
    """

    def __init__(self, machine_dir: str | os.PathLike[str], jobscript_name: str = "jobscript") -> None:
        self.dir = os.fspath(machine_dir)
        self.name = os.path.basename(os.path.normpath(self.dir))
        if not _SAFE_NAME.fullmatch(self.name):
            suggestion = _UNSAFE_RUN.sub("_", self.name)
            raise TemplateError(
                f"machine folder {self.dir!r}: its name {self.name!r} names the files "
                f"jobscript_<name> and run_<name>.sh, which shells and batch systems "
                f"read, so it may hold only letters, digits, '_', '.', '-' and '+'. "
                f"Rename the folder, e.g. to {suggestion!r}."
            )
        jobscript = os.path.join(self.dir, jobscript_name)
        self.info_path = os.path.join(self.dir, "info.yaml")
        if not os.path.isfile(jobscript):
            raise TemplateError(
                f"machine {self.name!r}: no job script template {jobscript!r}. "
                f"Write one (the commands a job runs in its pset folder)."
            )
        self.template = FileTemplate(jobscript, target_suffix="_" + self.name)
        self.info = self._read_info()
        self.scheduler: str | None = None
        self.array = False
        self.array_limit: int | None = None
        self.max_array_size: int = MAX_ARRAY_SIZE
        for key, value in self.info.items():
            if key in _RESERVED or not isinstance(key, str) or not key.isidentifier():
                raise TemplateError(
                    f"{self.info_path!r}: the key {key!r} is not allowed (reserved "
                    f"names: {', '.join(_RESERVED)}). Rename it."
                )
            setattr(self, key, value)
        self._check_info()

    def _read_info(self) -> dict[str, Any]:
        yaml = require("yaml", "reading a machine's info.yaml")
        try:
            with open(self.info_path, encoding="utf-8") as fd:
                info = yaml.safe_load(fd)
        except FileNotFoundError:
            raise TemplateError(
                f"machine {self.name!r}: no {self.info_path!r}. Write one with at "
                f"least the submit command, e.g. 'subcmd: sbatch' (or 'subcmd: sh' "
                f"to run jobs locally)."
            ) from None
        except yaml.YAMLError as exc:
            raise TemplateError(f"{self.info_path!r} is not valid YAML: {exc}") from None
        if not isinstance(info, dict):
            raise TemplateError(
                f"{self.info_path!r} holds a {type(info).__name__}, not a mapping. "
                f"Write 'key: value' lines, e.g. 'subcmd: sbatch'."
            )
        return info

    def _check_info(self) -> None:
        where = self.info_path
        subcmd = getattr(self, "subcmd", None)
        if not isinstance(subcmd, str) or not subcmd.strip():
            raise TemplateError(
                f"{where!r}: 'subcmd' is missing or empty ({subcmd!r}). Give the "
                f"command that submits a job script, e.g. 'subcmd: sbatch' or 'subcmd: sh'."
            )
        if self.scheduler is None and shlex.split(subcmd)[0] == "sbatch":
            self.scheduler = "slurm"
        if self.scheduler is not None and self.scheduler not in SCHEDULERS:
            raise TemplateError(
                f"{where!r}: scheduler={self.scheduler!r}; use one of {sorted(SCHEDULERS)}."
            )
        if not isinstance(self.array, bool):
            raise TemplateError(f"{where!r}: array={self.array!r}; use true or false.")
        if self.array and self.scheduler is None:
            raise TemplateError(
                f"{where!r}: 'array: true' needs to know the batch system: add "
                f"'scheduler: slurm' (or pbs, sge)."
            )
        limit = self.array_limit
        if limit is not None and not _is_count(limit):
            raise TemplateError(
                f"{where!r}: array_limit={limit!r}; give a whole number >= 1 of "
                f"tasks to run at once, or leave it out."
            )
        if not _is_count(self.max_array_size):
            raise TemplateError(
                f"{where!r}: max_array_size={self.max_array_size!r}; give the whole "
                f"number >= 1 of tasks your batch system takes in one array job (SLURM: "
                f"MaxArraySize - 1, see 'scontrol show config'), or leave it out "
                f"(default {MAX_ARRAY_SIZE})."
            )

    def __repr__(self) -> str:
        return f"{self.name}:{self.template}"


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def gather_machines(machine_templ_dir: str | os.PathLike[str]) -> list[Machine]:
    """The machines of `machine_templ_dir`: one per subfolder, sorted by name.

    Parameters
    ----------
    machine_templ_dir
        E.g. ``templates/machines``; folders whose names start with ``.``
        and plain files are ignored.

    Returns
    -------
    list of Machine

    Raises
    ------
    TemplateError
        If the folder does not exist, or a machine folder is incomplete.

    Examples
    --------
    >>> import psweep as ps
    >>> from pathlib import Path
    >>> for name, cmd in [("local", "sh"), ("cluster", "sbatch")]:
    ...     (Path("machines") / name).mkdir(parents=True)
    ...     _ = (Path("machines") / name / "info.yaml").write_text(f"subcmd: {cmd}\\n")
    ...     _ = (Path("machines") / name / "jobscript").write_text("python3 run.py\\n")
    >>> [m.name for m in ps.gather_machines(Path("machines"))]
    ['cluster', 'local']
    """
    root = check_folder(
        "machine_templ_dir", machine_templ_dir,
        "Create one subfolder per machine with an info.yaml and a jobscript",
    )
    return [
        Machine(os.path.join(root, name))
        for name in sorted(os.listdir(root))
        if not name.startswith(".") and os.path.isdir(os.path.join(root, name))
    ]
