"""What :func:`psweep.prep_batch` runs per pset: fill the templates into the pset's folder.

A module-level callable object free of driver state, so that it pickles
into process pools; its templates are its code for ``skip_dups="same-code"``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from typing import Any

from psweep._schema import PSET_FILE
from psweep.batch._templates import FileTemplate
from psweep.provenance import code_hash
from psweep.store import PortablePickler

__all__ = ["PsetWriter"]


class PsetWriter:
    """The function prep_batch runs over the psets: fill and write the templates.

    Module level and free of driver state, so it pickles into pools.
    """

    def __init__(self, templates: list[FileTemplate], mode: str, write_pset: bool) -> None:
        self.templates = templates
        self.mode = mode
        self.write_pset = write_pset

    def __call__(self, pset: dict[str, Any]) -> dict[str, Any]:
        folder = os.path.join(pset["_calc_dir"], pset["_pset_id"])
        # Everything is filled in memory first: a failing template leaves no
        # half-written pset folder.
        filled = [(templ, templ.render(pset, self.mode)) for templ in self.templates]
        os.makedirs(folder, exist_ok=True)
        for templ, data in filled:
            path = os.path.join(folder, templ.targetname)
            if "/" in templ.targetname:  # a template in a subfolder
                os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fd:
                fd.write(data)
            os.chmod(path, templ.mode_bits)
        if self.write_pset:
            # Read by the job, maybe under another numpy/pandas (a laptop
            # prepares, a cluster runs): names that every supported one has.
            with open(os.path.join(folder, PSET_FILE), "wb") as fd:
                PortablePickler(fd, protocol=pickle.HIGHEST_PROTOCOL).dump(pset)
        return {}

    def psweep_code_hash(self) -> str:
        """The code that makes the pset folders, for ``skip_dups="same-code"``.

        The templates are the code of a batch study: their names and
        contents (calc templates and job scripts), the template mode, and
        this writer's own code.
        """
        digest = hashlib.sha1()
        parts = [str(code_hash(type(self).__call__)).encode(), self.mode.encode()]
        for templ in self.templates:
            parts += [templ.targetname.encode(), templ.data]
        for part in parts:
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)
        return "templates:" + digest.hexdigest()
