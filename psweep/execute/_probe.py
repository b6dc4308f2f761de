"""Before a pool runs any pset: can its worker processes load the function?

Under ``fork`` a worker is a copy of the driver and finds every function the
driver had. Under ``spawn`` (macOS's default) and ``forkserver`` (Linux's
from Python 3.14) a worker starts afresh and imports the function by name:
one defined under ``if __name__ == "__main__":``, in a notebook cell or in
exec'd code is not there, and a script without that guard runs its study
again in each worker. Each of these used to surface as a broken pool on
every pset; here they become one :class:`~psweep.errors.SweepPickleError`
before any pset runs and before the database changes.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import pickle
from typing import Any

from psweep.errors import SweepPickleError

__all__ = ["pickled_function", "load_function", "probe_pool", "refuse_in_worker_bootstrap"]

# How long to wait for the probe: a spawned worker imports the main script,
# psweep and pandas first (about a second on a loaded machine). If it takes
# longer the run goes on; the pool's crash handling covers what follows.
PROBE_TIMEOUT = 60.0

_MOVE_IT = (
    "Define the function at the top level of a module (not inside another "
    "function or under 'if __name__ == \"__main__\":'), and keep the script's "
    "own work under that guard. In a notebook or exec'd code, move the "
    "function to a .py module and import it, or run on a Dask client "
    "(executor=dask.distributed.Client(...)), which ships functions by value."
)


def _name(func: Any) -> str:
    return str(getattr(func, "__qualname__", None) or repr(func))


def pickled_function(func: Any) -> bytes:
    """`func` pickled as it is sent to worker processes.

    Parameters
    ----------
    func
        The function to send (plain or decorated).

    Returns
    -------
    bytes

    Raises
    ------
    SweepPickleError
        If it cannot be pickled; the message says where to define it.

    Examples
    --------
    >>> import pickle
    >>> from psweep.execute._probe import pickled_function
    >>> pickle.loads(pickled_function(len)) is len
    True
    """
    try:
        return pickle.dumps(func)
    except SweepPickleError:
        raise
    except Exception as exc:
        raise SweepPickleError(
            f"cannot send {_name(func)!r} to worker processes: {exc}. {_MOVE_IT}"
        ) from exc


def load_function(data: bytes) -> str | None:
    """On a worker: unpickle the function; None if that works, else why not.

    Parameters
    ----------
    data
        The function as :func:`pickled_function` made it.

    Returns
    -------
    str or None
        The error, as ``"Type: message"``.

    Examples
    --------
    >>> from psweep.execute._probe import load_function, pickled_function
    >>> load_function(pickled_function(len)) is None
    True
    """
    try:
        pickle.loads(data)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _start_method(executor: cf.ProcessPoolExecutor | None) -> str:
    """The start method of `executor`'s workers (None: a new pool's default)."""
    context = getattr(executor, "_mp_context", None) or multiprocessing.get_context()
    return str(context.get_start_method())


def probe_pool(executor: cf.ProcessPoolExecutor, data: bytes, func: Any) -> None:
    """Ask one worker of `executor` to load the function, once.

    Costs a round trip to a worker the run starts anyway (a few ms).

    Parameters
    ----------
    executor
        The process pool the run will use.
    data
        The function, from :func:`pickled_function`.
    func
        The function itself, for the message.

    Raises
    ------
    SweepPickleError
        If the worker cannot load the function, or dies while starting.
    """
    method = _start_method(executor)
    where = f"worker processes (start method {method!r})"
    try:
        error = executor.submit(load_function, data).result(timeout=PROBE_TIMEOUT)
    except cf.TimeoutError:
        return
    except Exception as exc:
        raise SweepPickleError(
            f"a worker process died while starting, before it could load "
            f"{_name(func)!r} ({type(exc).__name__}: {exc}). With the start method "
            f"{method!r}, each worker imports the main script again: a script "
            f"whose study is not under 'if __name__ == \"__main__\":' runs the "
            f"study again in every worker. {_MOVE_IT} No pset ran."
        ) from exc
    if error is not None:
        raise SweepPickleError(
            f"{where} cannot load {_name(func)!r}: {error}. They import it anew "
            f"by name, and it is not found there. {_MOVE_IT} No pset ran."
        )


def refuse_in_worker_bootstrap() -> None:
    """Raise if this process is a worker still importing the main script.

    Under spawn and forkserver a worker runs the main script's top level;
    a study there without the ``__main__`` guard would start again in
    every worker (and change the database). Refused before anything.

    Raises
    ------
    SweepPickleError
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise SweepPickleError(
            "psweep was asked to run a study while this process is being "
            "started as a worker of a process pool (spawn/forkserver "
            "re-import the main script). Put the script's work under "
            "'if __name__ == \"__main__\":'."
        )
