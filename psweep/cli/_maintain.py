"""``psweep check`` and ``psweep compact``: the calc dir's state, and folding pending rows."""

from __future__ import annotations

import argparse
import os

from psweep.cli._common import CliError, split_target
from psweep.store import (
    LIVENESS_ENV,
    Store,
    describe_path,
    is_network,
    liveness_timeout,
    lock_sharing,
    mount_of,
)

__all__ = ["cmd_check", "cmd_compact"]


def cmd_check(args: argparse.Namespace) -> None:
    calc_dir, basename = split_target(args.target)
    store = Store(calc_dir, basename)
    if not store.exists():
        raise CliError(f"no psweep database in {calc_dir!r}")
    # Read only: check must not change what it reports on.
    journals = store.journal_status()
    df = store.with_pending()
    folders = {
        name for name in os.listdir(calc_dir)
        if os.path.isdir(os.path.join(calc_dir, name)) and len(name) == 36 and name.count("-") == 4
    }
    # Only ids that have a folder: a set of a million ids costs seconds.
    ids = set(df["_pset_id"][df["_pset_id"].isin(folders)]) if "_pset_id" in df.columns else set()
    print(f"database: {store.db_path} ({len(df)} rows incl. pending)")
    print(f"pset folders: {len(folders & ids)} with a row, {len(folders - ids)} without a row")
    for name in sorted(folders - ids):
        print(f"  no row: {os.path.join(calc_dir, name)}")
    pending = sum(n for _, _, n in journals)
    print(f"pending rows: {pending} in {len(journals)} journals "
          f"({sum(1 for _, live, _ in journals if live)} of live runs)")
    quarantined = store.quarantined()
    print(f"quarantined journals (unreadable records, rows kept): {len(quarantined)}")
    for path in quarantined:
        print(f"  {path}")
    try:
        lock_state = "free" if store.lock_is_free() else "held"
    except OSError as exc:  # a read-only mount, say
        lock_state = f"cannot be taken here ({exc.strerror or exc})"
    print(f"lock {store.lock_path}: {lock_state}")
    for line in _mount_lines(store):
        print(line)


def _mount_lines(store: Store) -> list[str]:
    """What the calc dir's file system is, whether other hosts see its locks, what psweep does."""
    mount = mount_of(store.calc_dir)
    if mount is None:
        lines = ["file system: cannot be told here (no /proc/self/mountinfo)"]
    else:
        kind = "network or FUSE: other hosts may share it" if is_network(mount) else "local"
        lines = [
            f"file system: {mount.fstype} ({kind}), mounted at {mount.mount_point} from {mount.source}",
            f"locks seen by other hosts: {lock_sharing(mount)}",
        ]
    try:
        timeout = f"{liveness_timeout():g} s"
    except ValueError as exc:
        timeout = f"not valid ({exc})"
    lines.append(
        f"several hosts: a run of another host counts as live while its heartbeat "
        f"(journal and run record, refreshed every few seconds) is younger than the liveness "
        f"timeout, {timeout} ({LIVENESS_ENV}); the database lock adds a lease "
        f"({store.layout.lease_path}) that excludes other hosts whatever their locks do"
    )
    return lines


def cmd_compact(args: argparse.Namespace) -> None:
    calc_dir, basename = split_target(args.target)
    store = Store(calc_dir, basename)
    if not store.exists():
        # Checked before taking the lock, which would create a file here.
        raise CliError(
            f"no psweep database to compact in {calc_dir!r}, which is {describe_path(calc_dir)}; "
            f"nothing was written. Pass a calc dir (default: calc) or a database file."
        )
    before = sum(n for _, live, n in store.journal_status() if not live)
    with store.locked():
        db = store.fold()
    left = store.journal_status()
    print(f"folded {before} pending rows of finished runs; {store.db_path} has {len(db)} rows; "
          f"{sum(n for _, _, n in left)} rows of live runs still pending")
