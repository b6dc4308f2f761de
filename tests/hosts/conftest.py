"""Two "hosts" on one machine: two FUSE mounts of one folder, and a host name per process.

Each host sees the shared folder through its own ``bindfs`` mount. Without
``--enable-lock-forwarding`` a mount keeps ``flock`` locks to itself, like a
cluster mount with node-local locks (NFS ``local_lock=all``, Lustre
``localflock``); with it, locks reach the folder below and are shared. Each
driver runs under ``unshare --uts`` with a host name of its own. Mounts are
made once per session and unmounted at its end, also after failures; every
process a test starts is killed and reaped at the test's end.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)

# Mount options per lock mode: node-local locks, or locks shared between the mounts.
# Kernel caching of names and attributes is off: bindfs's default (1 s) lets a
# mount read a file replaced through another mount with the old file's size,
# which NFS's close-to-open consistency does not (it revalidates on open).
CACHING = ["-o", "attr_timeout=0,entry_timeout=0,negative_timeout=0"]
MODES = {
    "node-local": [],
    "shared": ["--multithreaded", "--enable-lock-forwarding"],
}


def _why_no_fuse() -> str | None:
    """Why FUSE mounts cannot be made here, or None if they can."""
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse on this machine (FUSE is not available)"
    for tool in ("bindfs", "fusermount3", "unshare"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (.ci/run installs bindfs and fuse3)"
    return None


def _unshare_prefix() -> list[str] | None:
    """The command prefix that gives a process its own host name, or None if none works."""
    for prefix in (["unshare", "--uts"], ["unshare", "--user", "--map-root-user", "--uts"]):
        try:
            done = subprocess.run([*prefix, "hostname", "psweep-probe"], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return prefix
    return None


def _unmount(path: str) -> None:
    """Unmount `path`: politely, then lazily as a last resort."""
    for args in (["fusermount3", "-u", path], ["fusermount3", "-uz", path]):
        try:
            if subprocess.run(args, capture_output=True, timeout=15).returncode == 0:
                return
        except subprocess.TimeoutExpired:
            pass


class Hosts:
    """The shared folder, its mounts per lock mode, and the processes started on them."""

    def __init__(self, base: str, unshare: list[str]) -> None:
        self.base = base
        self.real = os.path.join(base, "real")
        os.makedirs(self.real)
        self.unshare = unshare
        self.mounted: list[str] = []
        self.procs: list[subprocess.Popen] = []

    def mounts(self, mode: str) -> tuple[str, str]:
        """The two mount points of `mode` (made on first use): host A's and host B's."""
        points = tuple(os.path.join(self.base, f"{mode}-{host}") for host in "AB")
        for point in points:
            if point in self.mounted:
                continue
            os.makedirs(point)
            done = subprocess.run(
                ["bindfs", "--no-allow-other", *CACHING, *MODES[mode], self.real, point],
                capture_output=True,
                text=True,
                timeout=30,
            )
            if done.returncode != 0:
                pytest.skip(f"bindfs could not mount a FUSE file system here: {done.stderr.strip()}")
            self.mounted.append(point)
        return points  # type: ignore[return-value]

    def start(self, host: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start ``python ARGS`` as a process whose host name is `host`."""
        command = [*self.unshare, "sh", "-c", 'hostname "$0" && exec "$@"', host, sys.executable, *args]
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": TESTS, **(env or {})},
        )
        self.procs.append(proc)
        return proc

    def run(self, host: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> str:
        """Run ``python ARGS`` as host `host` to its end; its output (it must succeed)."""
        proc = self.start(host, *args, env=env)
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, f"{args} on {host} failed:\n{out}\n{err}"
        return out

    def reap(self) -> None:
        """Kill and reap every process started (those still running)."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            try:
                proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        self.procs.clear()


@pytest.fixture(scope="session")
def _hosts_session():
    reason = _why_no_fuse()
    if reason is not None:
        pytest.skip(reason)
    unshare = _unshare_prefix()
    if unshare is None:
        pytest.skip("unshare --uts cannot give a process its own host name here (not permitted)")
    base = tempfile.mkdtemp(prefix="psweep-hosts-")
    hosts = Hosts(base, unshare)
    try:
        yield hosts
    finally:
        hosts.reap()
        for point in reversed(hosts.mounted):
            _unmount(point)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def hosts(_hosts_session):
    """The two-host setup; processes a test starts are killed and reaped at its end."""
    try:
        yield _hosts_session
    finally:
        _hosts_session.reap()
