"""Finding the template files of :func:`psweep.prep_batch` on disk.

``templates/calc/`` holds the files every pset gets, walked here with its
subfolders and linked folders; :mod:`psweep.batch._machines` reads
``templates/machines/<name>/``.
"""

from __future__ import annotations

import os

from psweep.batch._templates import FileTemplate
from psweep.errors import TemplateError

__all__ = [
    "check_folder",
    "gather_calc_templates",
]


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
    >>> from psweep.batch._discovery import check_folder
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
