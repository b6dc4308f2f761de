"""A calc dir's database: which file it is, its lock, journals, folds, counters and format."""

from __future__ import annotations

from psweep.store._access import check_writable, write_error, write_fix
from psweep.store._calcdir import database_name, resolve_database
from psweep.store._dbfile import check_readable
from psweep.store._mounts import is_network, lock_sharing, mount_of
from psweep.store._pickler import PortablePickler
from psweep.store._journal import Journal
from psweep.store._legacy016 import describe_path, upgrade_016_frame
from psweep.store._liveness import (
    LIVENESS_ENV,
    age,
    heartbeat_interval,
    keep_alive,
    liveness_timeout,
    pid_exists,
    stop_keeping_alive,
    this_host,
)
from psweep.store._rowbuffer import RowBuffer
from psweep.store._rows import concat_rows, rows_to_frame
from psweep.store._rowsort import frame_in_seq_order
from psweep.store._dfio import df_read, df_write
from psweep.store._store import DEFAULT_LOCK_TIMEOUT, Store

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "LIVENESS_ENV",
    "age",
    "heartbeat_interval",
    "is_network",
    "lock_sharing",
    "mount_of",
    "keep_alive",
    "liveness_timeout",
    "pid_exists",
    "stop_keeping_alive",
    "this_host",
    "Journal",
    "PortablePickler",
    "RowBuffer",
    "Store",
    "check_readable",
    "check_writable",
    "concat_rows",
    "database_name",
    "describe_path",
    "df_read",
    "df_write",
    "frame_in_seq_order",
    "resolve_database",
    "rows_to_frame",
    "upgrade_016_frame",
    "write_error",
    "write_fix",
]
