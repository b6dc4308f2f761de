"""Processes of this host: whether a process id still names a running process.

The one place that asks the kernel (``os.kill(pid, 0)``, which sends no
signal): the signs of life of runs, the leases, run status, the temporary
log folders of killed drivers and the pool workers' watch on their driver
all ask it here.

Examples
--------
>>> import os
>>> from psweep._procs import pid_exists
>>> pid_exists(os.getpid()), pid_exists(0)
(True, False)
"""

from __future__ import annotations

import os

__all__ = ["pid_exists"]


def pid_exists(pid: int, *, other_users: bool = True) -> bool:
    """Whether a process with the id `pid` runs on this host.

    Parameters
    ----------
    pid
        The process id, as read from a file or given by a parent.
    other_users
        What a process of another user (one this process may not signal)
        counts as: True, it exists (the pid of a run started by someone
        else, in a shared calc dir); False, it does not (a pool worker
        watching its driver: the driver's number now belongs to a stranger,
        so the driver is gone).

    Returns
    -------
    bool
        False also for ids that name no single process (zero, negative,
        too large).

    Examples
    --------
    >>> import os
    >>> from psweep._procs import pid_exists
    >>> pid_exists(os.getpid()), pid_exists(-1), pid_exists(2**80)
    (True, False, False)
    """
    if pid <= 0:  # 0 and negative ids name process groups, not a process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return other_users
    except (OverflowError, ValueError):
        return False
    return True
