"""The driver side of a run: take each finished row and make it durable."""

from __future__ import annotations

import pickle
import time
import warnings
from typing import Any

import pandas as pd

from psweep.store import write_fix
from psweep.errors import LockTimeoutError, PsweepError, StoreWriteError, caller_stacklevel
from psweep.store import rows_to_frame
from psweep.store import Journal
from psweep.store import RowBuffer
from psweep.store import Store
from psweep._schema import EXC_KEY, MAIN_CLASS_KEY, NO_RESULT_KEY
from psweep.execute import make_storable

__all__ = ["Recorder"]

# Fold the journal into the database during long runs, at most this often,
# and never more often than 20x the time the last fold took, so folding a
# large database costs at most ~5% of a run.
MIN_COMPACT_INTERVAL = 5.0
COMPACT_COST_FACTOR = 20.0

_monotonic = time.monotonic


class Recorder:
    """Records the rows of one run as they arrive.

    Parameters
    ----------
    store
        The calc dir's store.
    run_id
        The run's ``_run_id`` (names its journal).
    save
        False keeps rows in memory only (``run(save=False)``).
    progress
        A tqdm bar to advance per row, or None.
    """

    def __init__(
        self,
        store: Store,
        run_id: str,
        save: bool,
        progress: Any = None,
    ) -> None:
        self.store = store
        self.progress = progress
        self.run_id = run_id
        self.save = save
        self.memory_rows = RowBuffer()
        self.n_rows = 0
        self.n_failed = 0
        #: Whether a successful pset's function returned something (not
        #: None); dry runs count as returning.
        self.returned_results = False
        self.first_exception: BaseException | None = None
        self._journal: Journal | None = None
        # Rows recorded since the last fold (journaled or not): the fold
        # takes them from here instead of reading the journal back. Held
        # by column: as dicts they were most of a big run's memory.
        self._pending = RowBuffer()
        self._unwritten: list[dict[str, Any]] = []
        self._warned_write = False
        self._warned_main_class = False
        # Whether a fold may have stored rows of _pending already (it failed
        # after writing the database): then the next fold checks them.
        self._maybe_folded = False
        # When the next fold is due (time.monotonic()).
        self._compact_at = time.monotonic() + MIN_COMPACT_INTERVAL

    def record(self, row: dict[str, Any]) -> None:
        """Make `row` durable (journal append) and count it.

        Parameters
        ----------
        row
            A row from a worker.
        """
        self.n_rows += 1
        if self.progress is not None:
            self.progress.update(1)
        if MAIN_CLASS_KEY in row:
            self._warn_main_class(*row.pop(MAIN_CLASS_KEY))
        if row["_failed"]:
            exception = row.pop(EXC_KEY, None)  # only failed rows carry one
            self.n_failed += 1
            if self.progress is not None:
                self.progress.set_postfix_str(f"failed={self.n_failed}", refresh=False)
            if self.first_exception is None and exception is not None:
                self.first_exception = exception
                if hasattr(exception, "add_note") and exception.__traceback__ is None:
                    exception.add_note(f"psweep: traceback in the worker:\n{row['_exc_txt']}")
        elif NO_RESULT_KEY in row:  # the function returned None
            del row[NO_RESULT_KEY]
        else:
            self.returned_results = True
        if not self.save:
            self.memory_rows.append(row)
            return
        # The buffer takes the row's values after journaling, which may have
        # made it a failed row that pickles.
        if self._unwritten or self._journal is None:
            self._record_unwritten(row)
        else:  # the usual case, kept short: rows of trivial psets add up
            try:
                self._pending.add(*self._journal.append(row))
            except Exception as exc:
                self._record_slowly(row, exc)
        if _monotonic() > self._compact_at:
            self._compact()

    def _record_unwritten(self, row: dict[str, Any]) -> None:
        """Record `row` while earlier rows wait for the disk, or the journal is not open."""
        self._unwritten.append(row)
        self._flush()
        if self._unwritten and self._unwritten[-1] is row:
            self._make_storable(row)  # not journaled yet: checked now
        self._pending.append(row)

    def _record_slowly(self, row: dict[str, Any], exc: Exception) -> None:
        """Record `row`, whose journal append raised `exc`: a write that failed, or
        a row that does not pickle (then made a failed row that does)."""
        if not isinstance(exc, OSError):  # no need to try the same pickle again
            self._fail_unstorable(row, exc)
            try:
                self._pending.add(*self._journal.append(row))  # type: ignore[union-attr]
                return
            except OSError as write_exc:
                exc = write_exc
        self._unwritten.append(row)
        self._write_failed(exc)
        self._pending.append(row)

    def _warn_main_class(self, key: str, class_name: str) -> None:
        """Warn once per run that a result's class lives in ``__main__``."""
        if self._warned_main_class:
            return
        self._warned_main_class = True
        warnings.warn(
            f"psweep: the result {key!r} is an instance of {class_name!r}, a class "
            f"defined in the driver script's __main__. It is stored, but no other "
            f"process (another script, ps.df_read elsewhere, the psweep command) "
            f"can read the database back while that class cannot be imported. "
            f"Define the class in an importable module and import it in the "
            f"script, or store plain data (numbers, strings, arrays, dicts).",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )

    def _append(self, row: dict[str, Any]) -> None:
        """Journal `row`; one that does not pickle is first made a failed row
        that does (only that pset fails). Raises OSError if the write fails."""
        try:
            self._journal.append(row)  # type: ignore[union-attr]
        except OSError:
            raise
        except Exception as exc:
            self._fail_unstorable(row, exc)
            self._journal.append(row)  # type: ignore[union-attr]

    def _fail_unstorable(self, row: dict[str, Any], exc: Exception) -> None:
        """Make `row`, which does not pickle (`exc`), a failed row that does."""
        if not row["_failed"]:
            self.n_failed += 1
            if self.progress is not None:
                self.progress.set_postfix_str(f"failed={self.n_failed}", refresh=False)
        make_storable(row, exc)

    def _make_storable(self, row: dict[str, Any]) -> None:
        """Check that `row` pickles (it waits in memory for the disk), else fail it."""
        try:
            pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            self._fail_unstorable(row, exc)

    def _flush(self) -> None:
        """Write rows waiting in memory to the journal, in order."""
        while self._unwritten:
            try:
                if self._journal is None:
                    self._journal = self.store.open_journal(self.run_id)
                self._append(self._unwritten[0])
            except OSError as exc:
                self._write_failed(exc)
                return
            self._unwritten.pop(0)

    def _write_failed(self, exc: OSError) -> None:
        """Warn once that rows wait in memory for space on disk."""
        if not self._warned_write:
            warnings.warn(
                f"psweep: could not write a row to {self.store.journal_dir}: "
                f"{exc}. Keeping rows in memory and retrying with each "
                f"new row. {write_fix(exc, self.store.calc_dir)}",
                RuntimeWarning,
                stacklevel=caller_stacklevel(),
            )
            self._warned_write = True

    def _compact(self) -> None:
        """Fold this run's journal now if nobody holds the lock."""
        start = time.monotonic()
        try:
            with self.store.locked(timeout=0):
                self.store.fold(self._journal, self._pending, not self._maybe_folded)
        except LockTimeoutError:
            pass  # busy: the rows are safe in the journal; try later
        except (PsweepError, OSError):
            self._maybe_folded = True  # e.g. full: try later
        else:
            self._pending = RowBuffer()
            self._unwritten = []
            self._maybe_folded = False
        end = time.monotonic()
        self._compact_at = end + max(MIN_COMPACT_INTERVAL, COMPACT_COST_FACTOR * (end - start))

    def finish(self) -> pd.DataFrame | None:
        """Fold this run's rows into the database and close the journal.

        Returns
        -------
        pandas.DataFrame or None
            The database as written, None when not saving or nothing ran.

        Raises
        ------
        StoreWriteError
            If rows could not reach the disk (e.g. it is full); rows that
            reached the journal stay there for the next run or read to fold.
        """
        if self.progress is not None:
            self.progress.close()
        if not self.save or not self.n_rows:
            return None
        self._flush()
        db = None
        try:
            with self.store.locked():
                db = self.store.fold(self._journal, self._pending, not self._maybe_folded)
        except OSError as exc:
            fold_error: OSError | None = exc
        else:
            fold_error = None
        finally:
            if self._journal is not None:
                self._journal.close(remove=db is not None)
        if db is not None:
            self._pending = RowBuffer()
            self._unwritten = []
        if self._unwritten or fold_error is not None:
            fix = write_fix(fold_error, self.store.calc_dir) if fold_error is not None else ""
            error = StoreWriteError(
                f"psweep could not write to {self.store.calc_dir!r}: "
                f"{fold_error or 'journal writes failed'}. "
                f"{self.n_rows - len(self._unwritten)} rows of this run are safe "
                f"in the journal folder {self.store.journal_dir} and are folded in by the "
                f"next run or ps.df_read once it can write there; "
                f"{len(self._unwritten)} rows could not be written at all and "
                f"are attached to this error as .unsaved (a DataFrame). {fix}"
            )
            error.unsaved = rows_to_frame(self._unwritten)
            raise error from fold_error
        return db
