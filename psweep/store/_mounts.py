"""What file system a calc dir is on, and whether its locks are seen by other hosts.

Read from ``/proc/self/mountinfo`` (Linux); elsewhere the type cannot be
told. Used by ``psweep check`` to say what the mount does and what psweep
does about it; psweep itself behaves the same on every mount (heartbeats
and the lease work whatever the locks do).

Examples
--------
>>> from psweep.store._mounts import parse_mountinfo
>>> line = "36 25 0:32 / /data rw,relatime - nfs4 srv:/export rw,vers=4.2,local_lock=none"
>>> parse_mountinfo([line], "/data/calc").fstype
'nfs4'
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import NamedTuple

__all__ = ["Mount", "mount_of", "parse_mountinfo", "is_network", "lock_sharing"]

# File systems that several hosts mount (FUSE ones are told by their "fuse" prefix).
_NETWORK = {
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "lustre", "gpfs", "beegfs", "ceph", "glusterfs",
    "9p", "afs", "panfs", "pvfs2", "orangefs", "wekafs", "virtiofs", "davfs", "ncpfs",
}


class Mount(NamedTuple):
    """One mount: its type, where it is mounted, from what, and its options."""

    fstype: str
    mount_point: str
    source: str
    options: tuple[str, ...]


def _unescape(field: str) -> str:
    """A mountinfo field with its octal escapes (``\\040`` for a space) undone."""
    return field.encode().decode("unicode_escape") if "\\" in field else field


def parse_mountinfo(lines: Iterable[str], path: str) -> Mount | None:
    """The mount of `path` (absolute, resolved) among mountinfo `lines`; None if none matches."""
    best: Mount | None = None
    for line in lines:
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 6 or len(tail) < 2:
            continue
        point = _unescape(fields[4])
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best.mount_point)):
            options = tuple(fields[5].split(",")) + tuple(tail[2].split(",") if len(tail) > 2 else ())
            best = Mount(tail[0], point, _unescape(tail[1]), options)
    return best


def mount_of(path: str) -> Mount | None:
    """The mount `path` lies on; None where that cannot be told (no ``/proc``)."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fobj:
            lines = fobj.read().splitlines()
    except OSError:
        return None
    return parse_mountinfo(lines, os.path.realpath(path))


def is_network(mount: Mount) -> bool:
    """Whether other hosts may mount the same files (a network or FUSE file system)."""
    return mount.fstype in _NETWORK or mount.fstype.split(".")[0] in ("fuse", "fuseblk")


def lock_sharing(mount: Mount) -> str:
    """Whether ``flock`` locks on `mount` are seen by other hosts, in words.

    Examples
    --------
    >>> from psweep.store._mounts import Mount, lock_sharing
    >>> lock_sharing(Mount("nfs", "/data", "srv:/x", ("rw", "local_lock=all")))
    'no: flock is node-local (local_lock=all)'
    """
    opts = set(mount.options)
    if not is_network(mount):
        return "one host only: locks work between all processes of this host"
    if mount.fstype in ("nfs", "nfs4"):
        for opt in ("local_lock=all", "local_lock=flock", "nolock"):
            if opt in opts:
                return f"no: flock is node-local ({opt})"
        return "yes: flock is sent to the NFS server as a whole-file lock (local_lock=none)"
    if mount.fstype == "lustre":
        if "flock" in opts:
            return "yes: mounted with flock"
        if "localflock" in opts:
            return "no: flock is node-local (localflock)"
        return "no: flock is refused (mounted without flock)"
    if mount.fstype.split(".")[0] in ("fuse", "fuseblk"):
        return "cannot be told: a FUSE file system decides for itself whether locks reach other hosts"
    return f"cannot be told for {mount.fstype}"
