"""Template files for :func:`psweep.prep_batch`: read once, filled in per pset.

A template folder holds the files every pset gets (``templates/calc/``,
found by :mod:`psweep.batch._discovery`) and one folder per machine
(``templates/machines/<name>/``) with a job script template ``jobscript``
and an ``info.yaml`` that says how jobs are submitted there
(:mod:`psweep.batch._machines`). This module reads a template file and
tells text from binary; :mod:`psweep.batch._filling` fills in the
placeholders; the workflow is :mod:`psweep.batch`, the submit scripts
:mod:`psweep.batch._jobscripts`.

jinja2 and pyyaml are optional (``pip install 'psweep[batch]'``): they are
imported when a template is filled or a machine is read, never when psweep
is imported.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Mapping
from typing import Any

from psweep.batch._filling import TEMPLATE_MODES, compile_jinja, fill_dollar, fill_jinja
from psweep.errors import TemplateError

__all__ = [
    "FileTemplate",
    "text_encoding",
]


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
            return fill_dollar(text, pset, self.filename)
        if self._compiled is None:
            self._compiled = compile_jinja(text, self.filename)
        return fill_jinja(self._compiled, text, pset, self.filename)

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
