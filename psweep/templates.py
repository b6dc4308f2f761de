"""Template files and machine descriptions for :func:`psweep.prep_batch`.

A template folder holds the files every pset gets (``templates/calc/``)
and one folder per machine (``templates/machines/<name>/``) with a job
script template ``jobscript`` and an ``info.yaml`` that says how jobs are
submitted there. This module reads them and fills in placeholders; the
workflow that writes pset folders and submit scripts is
:mod:`psweep.batch`.

jinja2 and pyyaml are optional (``pip install 'psweep[batch]'``): they are
imported when a template is filled or a machine is read, never when psweep
is imported.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import shlex
import string
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from psweep.errors import MissingDependencyError, TemplateError

__all__ = [
    "FileTemplate",
    "Machine",
    "Scheduler",
    "SCHEDULERS",
    "TEMPLATE_MODES",
    "gather_calc_templates",
    "gather_machines",
    "require",
]

TEMPLATE_MODES = ("jinja", "dollar")


def require(module: str, purpose: str) -> ModuleType:
    """Import an optional dependency of the batch workflow, or say how to get it.

    Parameters
    ----------
    module
        Module name, ``"jinja2"`` or ``"yaml"``.
    purpose
        What needs it, for the message.

    Returns
    -------
    module

    Raises
    ------
    MissingDependencyError
        If the module cannot be imported; the message gives the install
        command. Also an ``ImportError``.

    Examples
    --------
    >>> from psweep.templates import require
    >>> require("yaml", "reading info.yaml").__name__
    'yaml'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = {"yaml": "pyyaml"}.get(module, module)
        raise MissingDependencyError(
            f"{purpose} needs the package {package!r}, which is not installed. "
            f"Install the batch extra with: pip install 'psweep[batch]' "
            f"(or pip install {package})."
        ) from exc


def _is_binary(data: bytes) -> bool:
    if b"\0" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


class FileTemplate:
    """One template file, filled in per pset.

    Parameters
    ----------
    filename
        Path of the template file.
    target_suffix
        Appended to the file's name to form `targetname`
        (machines use ``"_<machine>"``: ``jobscript_cluster``).
    targetname
        The written file's path relative to the pset folder; default the
        file's name plus `target_suffix`.

    Attributes
    ----------
    filename, basename, dirname : str
        The template's path and its parts.
    targetname : str
        The file's path inside ``<calc_dir>/<_pset_id>/``.

    Notes
    -----
    A file that is not UTF-8 text (it holds a NUL byte or does not decode)
    is binary: :meth:`fill` returns its bytes unchanged.

    Examples
    --------
    >>> from psweep.templates import FileTemplate
    >>> _ = (tmp / "input.txt").write_text("n = {{n}}\\nname = $name\\n")
    >>> templ = FileTemplate(tmp / "input.txt")
    >>> templ.targetname
    'input.txt'
    >>> print(templ.fill({"n": 3}), end="")
    n = 3
    name = $name
    >>> print(templ.fill({"n": 3, "name": "x"}, mode="dollar"), end="")
    n = {{n}}
    name = x
    """

    def __init__(self, filename: str | os.PathLike[str], target_suffix: str = "",
                 targetname: str | None = None) -> None:
        self.filename = os.fspath(filename)
        self.basename = os.path.basename(self.filename)
        self.dirname = os.path.dirname(self.filename)
        self.targetname = self.basename + target_suffix if targetname is None else targetname
        self._data: bytes | None = None
        self._compiled: Any = None

    def __repr__(self) -> str:
        return self.filename

    def __getstate__(self) -> dict[str, Any]:
        # A compiled jinja template does not pickle; pool workers compile
        # their own on first use.
        return {**self.__dict__, "_compiled": None}

    @property
    def data(self) -> bytes:
        """The file's content, read once.

        Returns
        -------
        bytes
        """
        if self._data is None:
            try:
                with open(self.filename, "rb") as fd:
                    self._data = fd.read()
            except OSError as exc:
                raise TemplateError(
                    f"cannot read the template {self.filename!r}: {exc}. Check the "
                    f"path and the file's permissions."
                ) from exc
        return self._data

    @property
    def is_binary(self) -> bool:
        """Whether the file is copied as it is instead of filled in.

        Returns
        -------
        bool
        """
        return _is_binary(self.data)

    @property
    def mode_bits(self) -> int:
        """The template's permission bits, given to the written file.

        Returns
        -------
        int
        """
        return os.stat(self.filename).st_mode & 0o777

    def fill(self, pset: Mapping[str, Any], mode: str = "jinja") -> str | bytes:
        """The file's content with the placeholders replaced by `pset`'s values.

        Parameters
        ----------
        pset
            The values; bookkeeping keys such as ``_pset_id`` included.
        mode
            ``"jinja"``: jinja2 syntax (``{{name}}``), a placeholder that
            `pset` does not fill is an error. ``"dollar"``:
            :class:`string.Template` syntax (``$name``, ``${name}``; ``$$``
            is a literal ``$``).

        Returns
        -------
        str or bytes
            The text; the bytes unchanged for a binary file.

        Raises
        ------
        TemplateError
            A placeholder not filled by `pset`, or a syntax error; the
            message names the file and the key.
        """
        if mode not in TEMPLATE_MODES:
            raise TemplateError(f"template_mode={mode!r}: use one of {TEMPLATE_MODES}.")
        data = self.data
        if _is_binary(data):
            return data
        text = data.decode("utf-8")
        if mode == "dollar":
            return self._fill_dollar(text, pset)
        return self._fill_jinja(text, pset)

    def _fill_dollar(self, text: str, pset: Mapping[str, Any]) -> str:
        try:
            return string.Template(text).substitute(pset)
        except KeyError as exc:
            key = exc.args[0]
            raise TemplateError(
                f"template {self.filename!r}: the placeholder ${key} has no value: "
                f"the pset has no key {key!r}. Add {key!r} to the psets, or write "
                f"$${key} for a literal '${key}' (e.g. a shell variable)."
            ) from None
        except ValueError as exc:
            raise TemplateError(
                f"template {self.filename!r}: {exc}. In template_mode='dollar' a "
                f"'$' starts a placeholder; write '$$' for a literal '$'."
            ) from None

    def _fill_jinja(self, text: str, pset: Mapping[str, Any]) -> str:
        jinja2 = require("jinja2", "template_mode='jinja'")
        if self._compiled is None:
            env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
            try:
                self._compiled = env.from_string(text)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(
                    f"template {self.filename!r}, line {exc.lineno}: jinja2 syntax "
                    f"error: {exc.message}. Fix the template, or use "
                    f"template_mode='dollar' for $name placeholders."
                ) from None
        try:
            return self._compiled.render(pset)
        except jinja2.UndefinedError as exc:
            from jinja2 import meta

            used = meta.find_undeclared_variables(jinja2.Environment().parse(text))
            missing = sorted(used - set(pset))
            what = (
                "placeholder(s) " + ", ".join(repr(k) for k in missing) + " not in the pset"
                if missing else str(exc)
            )
            raise TemplateError(
                f"template {self.filename!r}: {what}. Add the key(s) to the psets, "
                f"or remove the placeholder (a literal brace pair is written "
                + "{{ '{{' }} in jinja)."
            ) from None


def gather_calc_templates(calc_templ_dir: str | os.PathLike[str]) -> list[FileTemplate]:
    """The templates of `calc_templ_dir`, subfolders included, sorted by path.

    Parameters
    ----------
    calc_templ_dir
        Folder of the files every pset folder gets, e.g. ``templates/calc``.

    Returns
    -------
    list of FileTemplate
        Each with `targetname` its path relative to `calc_templ_dir`.

    Raises
    ------
    TemplateError
        If the folder does not exist.

    Examples
    --------
    >>> import psweep as ps
    >>> (tmp / "calc_templ" / "sub").mkdir(parents=True)
    >>> _ = (tmp / "calc_templ" / "run.py").write_text("print({{a}})\\n")
    >>> _ = (tmp / "calc_templ" / "sub" / "data.txt").write_text("{{b}}\\n")
    >>> [t.targetname for t in ps.gather_calc_templates(tmp / "calc_templ")]
    ['run.py', 'sub/data.txt']
    """
    root = os.fspath(calc_templ_dir)
    if not os.path.isdir(root):
        raise TemplateError(
            f"calc_templ_dir={root!r} is not a folder. Create it with the files "
            f"each pset needs (e.g. templates/calc/run.py), or pass its path."
        )
    templates = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            templates.append(FileTemplate(path, targetname=rel))
    return templates


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
        >>> from psweep.templates import SCHEDULERS
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
        At most this many array tasks at once (SLURM/PBS ``%K``, SGE ``-tc``).

    Raises
    ------
    TemplateError
        A missing ``info.yaml`` or job script, or a bad value in
        ``info.yaml``; the message names the file.

    Examples
    --------
    >>> import psweep as ps
    >>> mdir = tmp / "machines" / "cluster"
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
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise TemplateError(
                f"{where!r}: array_limit={limit!r}; give a whole number >= 1 of "
                f"tasks to run at once, or leave it out."
            )

    def __repr__(self) -> str:
        return f"{self.name}:{self.template}"


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
    >>> for name, cmd in [("local", "sh"), ("cluster", "sbatch")]:
    ...     (tmp / "machines" / name).mkdir(parents=True)
    ...     _ = (tmp / "machines" / name / "info.yaml").write_text(f"subcmd: {cmd}\\n")
    ...     _ = (tmp / "machines" / name / "jobscript").write_text("python3 run.py\\n")
    >>> [m.name for m in ps.gather_machines(tmp / "machines")]
    ['cluster', 'local']
    """
    root = os.fspath(machine_templ_dir)
    if not os.path.isdir(root):
        raise TemplateError(
            f"machine_templ_dir={root!r} is not a folder. Create one subfolder per "
            f"machine with an info.yaml and a jobscript, or pass its path."
        )
    return [
        Machine(os.path.join(root, name))
        for name in sorted(os.listdir(root))
        if not name.startswith(".") and os.path.isdir(os.path.join(root, name))
    ]
