"""What a run takes along before anything is written: its source, code hash, executor and id."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

from psweep.engine._dups import SAME_CODE
from psweep.engine._options import RunOptions
from psweep.engine._plan import uuid4s
from psweep.errors import ParamsError
from psweep.execute import resolve_executor
from psweep.provenance import code_hash, notebook_source

__all__ = ["Prepared", "prepare", "stopping_pool"]


@dataclasses.dataclass(frozen=True)
class Prepared:
    """What :func:`prepare` gathered for one run.

    Attributes
    ----------
    run_id
        The run's ``_run_id``.
    source
        Source text to keep in the run's provenance, or None.
    func_hash
        :func:`psweep.provenance.code_hash` of the function, or None.
    executor
        The executor plan of :func:`psweep.execute.resolve_executor`, or
        None to run serially.
    """

    run_id: str
    source: str | None
    func_hash: str | None
    executor: Any


def prepare(func: Any, options: RunOptions) -> Prepared:
    """Read the source to keep, hash the function's code, start or probe the executor.

    Everything here may fail (a missing `backup_script`, a function workers
    cannot load), so it runs before a dry run's folder is made afresh and
    before the database is touched.

    Parameters
    ----------
    func
        The run's function.
    options
        The run's options.

    Returns
    -------
    Prepared

    Raises
    ------
    ParamsError
        ``skip_dups="same-code"`` for a function without Python code.
    SweepPickleError
        A function that worker processes cannot load.
    OSError
        `backup_script` cannot be read.
    """
    if options.backup_script is not None:
        with open(options.backup_script, encoding="utf-8") as fd:
            source = fd.read()
    elif options.source is None:
        source = notebook_source()  # None outside a Jupyter kernel
    else:
        source = options.source
    func_hash = code_hash(func)
    if options.skip_dups == SAME_CODE and func_hash is None:
        raise ParamsError(
            f"skip_dups={SAME_CODE!r} compares the code of func with the code "
            f"that made the stored rows, but {func!r:.100} has no Python code "
            f"to hash. Pass a Python function, or use skip_dups=True."
        )
    executor = resolve_executor(func, options.poolsize, options.executor)
    return Prepared(run_id=uuid4s(1)[0], source=source, func_hash=func_hash, executor=executor)


@contextlib.contextmanager
def stopping_pool(prepared: Prepared) -> Iterator[None]:
    """Stop the pool :func:`prepare` started when the run ends, however it ends.

    The pool loop stops it at the end of its psets; this also covers a
    step that fails before them (the database lock times out, the calc dir
    cannot be written), so that no worker process outlives the call.
    """
    try:
        yield
    finally:
        if prepared.executor is not None:
            prepared.executor.close()
