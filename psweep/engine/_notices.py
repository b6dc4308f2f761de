"""What a finished run tells its user: failed psets, and a function that returned nothing.

Warnings, once per run, pointing at the user's call; the run's rows are
stored either way.
"""

from __future__ import annotations

import warnings
from typing import Any

from psweep.errors import caller_stacklevel
from psweep.engine._recorder import Recorder

__all__ = ["Tally", "explain_interrupt", "warn_after_run"]


def warn_after_run(recorder: Recorder, func: Any, on_error: str) -> None:
    """Warn about failed psets, and if no successful pset returned a result.

    Parameters
    ----------
    recorder
        The run's recorder (it counted rows and saw whether any returned a result).
    func
        The run's function, for the message.
    on_error
        The run's option: failures are summed up for ``"record"``.
    """
    if recorder.n_failed and on_error == "record":
        warnings.warn(
            f"psweep: {recorder.n_failed} of {recorder.n_rows} psets failed; "
            f"their rows have _failed=True and the traceback in _exc_txt. "
            f"Select them with df[df._failed]; re-run them with skip_dups=True.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
    n_succeeded = recorder.n_rows - recorder.n_failed
    if n_succeeded and not recorder.returned_results:
        name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
        warnings.warn(
            f"psweep: none of the {n_succeeded} successful psets of this run returned a "
            f"result: {name}() returned None each time, so their rows hold only the "
            f"psets. Did it forget 'return'? Return the results as a dict, e.g. "
            f"return {{'result': value}}. A function that has no results on purpose "
            f"(it writes files to <_calc_dir>/<_pset_id>/) says so with return {{}}.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


class Tally:
    """How far a run got, for the line Ctrl-C prints.

    Parameters
    ----------
    planned
        Psets the run means to run (set again once skip_dups has spoken).
    db_path
        The database the rows go to; None for ``save=False``.
    """

    def __init__(self, planned: int, db_path: str | None) -> None:
        self.planned = planned
        self.db_path = db_path
        self.recorder: Recorder | None = None

    @property
    def saved(self) -> int:
        """Rows of this run recorded so far."""
        return 0 if self.recorder is None else self.recorder.n_rows

    def explain(self, exc: KeyboardInterrupt) -> None:
        """Add to `exc` the line that says what was kept and how to go on."""
        explain_interrupt(exc, self.saved, self.planned, self.db_path)


def explain_interrupt(exc: KeyboardInterrupt, n_saved: int, n_planned: int, db_path: str | None) -> None:
    """Tell, as the last line of Ctrl-C's traceback, what was kept and how to go on."""
    if db_path is None:
        line = f"psweep: interrupted after {n_saved} of {n_planned} psets; save=False, so none were saved."
    else:
        line = (
            f"psweep: interrupted; {n_saved} of {n_planned} psets of this run are saved "
            f"in {db_path}. Run the same study again with skip_dups=True to do only "
            f"the {n_planned - n_saved} missing."
        )
    if hasattr(exc, "add_note"):
        exc.add_note(line)
    elif not exc.args:  # Python 3.10: the last line reads "KeyboardInterrupt: <line>"
        exc.args = (line,)
