"""Template files for :func:`psweep.prep_batch`: read, filled in per pset.

A template folder holds the files every pset gets (``templates/calc/``)
and one folder per machine (``templates/machines/<name>/``) with a job
script template ``jobscript`` and an ``info.yaml`` that says how jobs are
submitted there (:mod:`psweep.batch._machines`). This module reads template files
and fills in placeholders; the workflow is :mod:`psweep.batch`, the submit
scripts :mod:`psweep.batch._jobscripts`.

jinja2 and pyyaml are optional (``pip install 'psweep[batch]'``): they are
imported when a template is filled or a machine is read, never when psweep
is imported.
"""

from __future__ import annotations

import codecs
import importlib
import os
import re
import string
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from psweep.errors import MissingDependencyError, TemplateError, TemplatePlaceholderError

__all__ = [
    "FileTemplate",
    "TEMPLATE_MODES",
    "check_folder",
    "gather_calc_templates",
    "jinja_placeholder_error",
    "require",
    "text_encoding",
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
    >>> from psweep.batch._templates import require
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
    >>> from psweep.batch._templates import check_folder
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


# Bytes that text files do not hold (C0 controls but for tab, newlines, form
# feed, escape; DEL): a file without UTF-8 or a BOM holding one is binary.
_NOT_TEXT = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_NOT_TEXT_CHAR = re.compile(_NOT_TEXT.pattern.decode("ascii"))


def text_encoding(data: bytes) -> str | None:
    """How a template's bytes are text, or None if they are binary.

    Parameters
    ----------
    data
        The file's content.

    Returns
    -------
    str or None
        ``"utf-8"``; ``"utf-16-le"``/``"utf-16-be"`` for a file starting
        with a UTF-16 byte order mark; ``"latin-1"`` for other 8-bit text
        (latin-1, cp1252, ...: not UTF-8, but no NUL or other control
        bytes; latin-1 maps each byte to one character and back, so the
        file's own bytes are kept whatever its 8-bit encoding); None for
        binary data.

    Examples
    --------
    >>> from psweep.batch._templates import text_encoding
    >>> text_encoding("T = {{T}} °C".encode("utf-8")), text_encoding("T = {{T}} °C".encode("latin-1"))
    ('utf-8', 'latin-1')
    >>> text_encoding(b"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00")
    """
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom) and len(data) % 2 == 0:
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                return None
            return None if _NOT_TEXT_CHAR.search(text) else encoding
    if b"\0" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None if _NOT_TEXT.search(data) else "latin-1"
    return "utf-8"


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
    Text is UTF-8, UTF-16 with a byte order mark, or another 8-bit encoding
    (latin-1, cp1252, ...), and is written back in its encoding
    (:func:`text_encoding`). Other files are binary: :meth:`fill` returns
    their bytes unchanged.

    Examples
    --------
    >>> from psweep.batch._templates import FileTemplate
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
        self._encoding: str | None = None
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
    def encoding(self) -> str | None:
        """The text encoding of the file (see :func:`text_encoding`); None if binary.

        Returns
        -------
        str or None
        """
        if self._encoding is None:
            self._encoding = text_encoding(self.data) or ""
        return self._encoding or None

    @property
    def is_binary(self) -> bool:
        """Whether the file is copied as it is instead of filled in.

        Returns
        -------
        bool
        """
        return self.encoding is None

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
        TemplatePlaceholderError
            A placeholder not filled by `pset`; the message names the file
            and the key. Also a ``KeyError`` (what psweep 0.16 raised) and
            a :class:`TemplateError`; in ``"jinja"`` mode also a
            ``jinja2.exceptions.UndefinedError`` (what jinja2 raises).
        TemplateError
            A syntax error, or an expression that fails.
        """
        if mode not in TEMPLATE_MODES:
            raise TemplateError(f"template_mode={mode!r}: use one of {TEMPLATE_MODES}.")
        encoding = self.encoding
        if encoding is None:
            return self.data
        text = self.data.decode(encoding)
        if mode == "dollar":
            return self._fill_dollar(text, pset)
        return self._fill_jinja(text, pset)

    def render(self, pset: Mapping[str, Any], mode: str = "jinja") -> bytes:
        """The file to write for `pset`: :meth:`fill`, in the template's encoding.

        Parameters
        ----------
        pset, mode
            As for :meth:`fill`.

        Returns
        -------
        bytes

        Raises
        ------
        TemplateError
            As :meth:`fill`; also if a filled-in value has characters the
            template's 8-bit encoding cannot hold.

        Examples
        --------
        >>> from psweep.batch._templates import FileTemplate
        >>> from pathlib import Path
        >>> _ = Path("in.txt").write_bytes("T = {{T}} °C\\n".encode("latin-1"))
        >>> FileTemplate(Path("in.txt")).render({"T": 300}) == "T = 300 °C\\n".encode("latin-1")
        True
        """
        content = self.fill(pset, mode)
        if isinstance(content, bytes):
            return content
        try:
            return content.encode(self.encoding or "utf-8")
        except UnicodeEncodeError as exc:
            chars = exc.object[exc.start : exc.end]
            raise TemplateError(
                f"template {self.filename!r} is {self.encoding} text (not UTF-8), and the "
                f"values filled in hold {chars!r}, which {self.encoding} cannot hold. Save "
                f"the template as UTF-8 (e.g. iconv -f latin1 -t utf-8), or use values "
                f"that {self.encoding} can hold."
            ) from None

    def _fill_dollar(self, text: str, pset: Mapping[str, Any]) -> str:
        try:
            return string.Template(text).substitute(pset)
        except KeyError as exc:
            key = exc.args[0]
            raise TemplatePlaceholderError(
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
            # jinja2 writes every line end as newline_sequence: keep the file's.
            newline = "\r\n" if "\r\n" in text else "\n"
            env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                                     newline_sequence=newline)
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
            raise jinja_placeholder_error()(
                f"template {self.filename!r}: {what}. Add the key(s) to the psets, "
                f"or remove the placeholder (a literal brace pair is written "
                + "{{ '{{' }} in jinja)."
            ) from None
        except Exception as exc:  # e.g. {{ a / b }} with b = 0
            raise TemplateError(
                f"template {self.filename!r}: filling it in raised "
                f"{type(exc).__name__}: {exc}. Fix the expression in the template."
            ) from exc


_JINJA_PLACEHOLDER_ERROR: type[TemplatePlaceholderError] | None = None


def jinja_placeholder_error() -> type[TemplatePlaceholderError]:
    """The error class of an unfilled jinja2 placeholder (jinja2 imported).

    A :class:`~psweep.errors.TemplatePlaceholderError` (a ``KeyError``, as
    psweep 0.16 raised for ``$name``) that is also jinja2's
    ``UndefinedError`` (as 0.16 raised for ``{{name}}``), so that
    ``except`` clauses written for 0.16 keep working. Made on first use,
    since jinja2 is optional; it pickles (``psweep.batch._templates.JinjaPlaceholderError``).

    Returns
    -------
    type

    Examples
    --------
    >>> import jinja2
    >>> from psweep.batch._templates import jinja_placeholder_error
    >>> issubclass(jinja_placeholder_error(), (KeyError, jinja2.exceptions.UndefinedError))
    True
    """
    global _JINJA_PLACEHOLDER_ERROR
    if _JINJA_PLACEHOLDER_ERROR is None:
        jinja2 = require("jinja2", "template_mode='jinja'")

        class JinjaPlaceholderError(TemplatePlaceholderError, jinja2.exceptions.UndefinedError):
            """A jinja2 placeholder that the pset does not fill."""

            __module__ = __name__
            __qualname__ = "JinjaPlaceholderError"

        _JINJA_PLACEHOLDER_ERROR = JinjaPlaceholderError
    return _JINJA_PLACEHOLDER_ERROR


def __getattr__(name: str) -> Any:
    # Unpickling a JinjaPlaceholderError (from a pool worker, say) looks
    # the class up here.
    if name == "JinjaPlaceholderError":
        return jinja_placeholder_error()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def gather_calc_templates(calc_templ_dir: str | os.PathLike[str]) -> list[FileTemplate]:
    """The templates of `calc_templ_dir`, subfolders included, sorted by path.

    Symbolic links are followed: a linked file is a template like any
    other, and the files of a linked folder (say ``data -> /shared/data``)
    are copied (and filled in, if text) into every pset folder under
    ``data/``. A link that points nowhere, or to a folder that holds it
    (a loop), is an error naming it.

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
        If the folder does not exist; for a dangling or looping link, or an
        entry that is no file nor folder (a FIFO, a socket).

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
    templates: list[FileTemplate] = []
    _gather(root, "", (os.path.realpath(root),), templates)
    return templates


def _gather(folder: str, prefix: str, chain: tuple[str, ...], templates: list[FileTemplate]) -> None:
    """Add the templates under `folder`; `chain` holds the real paths of the folders walked into."""
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isdir(path):
            real = os.path.realpath(path)
            inside = real.rstrip(os.sep) + os.sep
            if os.path.islink(path) and any(f == real or f.startswith(inside) for f in chain):
                raise TemplateError(
                    f"{path!r} is a link to {real!r}, a folder that holds it: following it "
                    f"would copy the folder into itself without end. Remove the link, or "
                    f"point it at a folder that does not hold it."
                )
            _gather(path, f"{prefix}{name}/", (*chain, real), templates)
        elif os.path.isfile(path):
            templates.append(FileTemplate(path, targetname=prefix + name))
        elif os.path.islink(path):
            raise TemplateError(
                f"{path!r} is a link to {os.readlink(path)!r}, which does not exist. "
                f"Fix or remove the link."
            )
        else:
            raise TemplateError(
                f"{path!r} is neither a file nor a folder (a FIFO, socket or device), so it "
                f"cannot be copied into pset folders. Move it out of the template folder."
            )
