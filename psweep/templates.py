"""Template files for :func:`psweep.prep_batch`: read, filled in per pset.

A template folder holds the files every pset gets (``templates/calc/``)
and one folder per machine (``templates/machines/<name>/``) with a job
script template ``jobscript`` and an ``info.yaml`` that says how jobs are
submitted there (:mod:`psweep.machines`). This module reads template files
and fills in placeholders; the workflow is :mod:`psweep.batch`, the submit
scripts :mod:`psweep.jobscripts`.

jinja2 and pyyaml are optional (``pip install 'psweep[batch]'``): they are
imported when a template is filled or a machine is read, never when psweep
is imported.
"""

from __future__ import annotations

import importlib
import os
import string
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from psweep.errors import MissingDependencyError, TemplateError

__all__ = ["FileTemplate", "TEMPLATE_MODES", "check_folder", "gather_calc_templates", "require"]

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


def check_folder(option: str, path: str | os.PathLike[str], fix: str) -> str:
    """`path` as str if it is a folder, else a TemplateError naming `option` and `fix`.

    Parameters
    ----------
    option
        The keyword that gave `path`, for the message.
    path
        The folder.
    fix
        What to do, for the message.

    Returns
    -------
    str

    Raises
    ------
    TemplateError

    Examples
    --------
    >>> from psweep.templates import check_folder
    >>> from pathlib import Path
    >>> check_folder("calc_templ_dir", Path("nope"), "Create it")
    Traceback (most recent call last):
    ...
    psweep.errors.TemplateError: calc_templ_dir='nope' is not a folder. Create it, or pass its path.
    """
    root = os.fspath(path)
    if not os.path.isdir(root):
        raise TemplateError(f"{option}={root!r} is not a folder. {fix}, or pass its path.")
    return root


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
    >>> from pathlib import Path
    >>> _ = Path("input.txt").write_text("n = {{n}}\\nname = $name\\n")
    >>> templ = FileTemplate(Path("input.txt"))
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
        except Exception as exc:  # e.g. {{ a / b }} with b = 0
            raise TemplateError(
                f"template {self.filename!r}: filling it in raised "
                f"{type(exc).__name__}: {exc}. Fix the expression in the template."
            ) from exc


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
    >>> from pathlib import Path
    >>> (Path("calc_templ") / "sub").mkdir(parents=True)
    >>> _ = (Path("calc_templ") / "run.py").write_text("print({{a}})\\n")
    >>> _ = (Path("calc_templ") / "sub" / "data.txt").write_text("{{b}}\\n")
    >>> [t.targetname for t in ps.gather_calc_templates(Path("calc_templ"))]
    ['run.py', 'sub/data.txt']
    """
    root = check_folder(
        "calc_templ_dir", calc_templ_dir, "Create it with the files each pset needs (e.g. run.py)"
    )
    templates = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            templates.append(FileTemplate(path, targetname=rel))
    return templates
