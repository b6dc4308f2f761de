"""Functions run by tests in worker processes and subprocess drivers.

They live in a real module so that spawned processes can import them.
"""

from __future__ import annotations

import os
import time

import psweep as ps


def square(pset):
    return {"y": pset["x"] ** 2}


def fail_on_3(pset):
    if pset["x"] == 3:
        raise ValueError(f"x is 3 in {pset['_pset_id']}")
    return {"y": pset["x"] ** 2}


def slow_square(pset):
    time.sleep(pset.get("sleep", 0.05))
    return {"y": pset["x"] ** 2, "pid": os.getpid()}


def crash_on_3(pset):
    if pset["x"] == 3:
        os._exit(13)
    return {"y": pset["x"] ** 2}


@ps.sweep(calc_dir="calc")
def decorated_square(pset):
    """Square x."""
    return {"y": pset["x"] ** 2, "pid": os.getpid()}


def logged_square(pset):
    """Square x after `sleep`; log the _pset_id to `log` once the work is done."""
    time.sleep(pset.get("sleep", 0.0))
    result = {"y": pset["x"] ** 2}
    fd = os.open(pset["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (pset["_pset_id"] + "\n").encode())
    finally:
        os.close(fd)
    return result


def held_logged_square(pset):
    """logged_square, but a pset with x >= pset["hold_from"] first waits (at most
    60 s) until the file pset["hold"] exists: the run stays running, with rows
    done, until a test lets it go on."""
    if pset["x"] >= pset["hold_from"]:
        deadline = time.monotonic() + 60
        while not os.path.exists(pset["hold"]) and time.monotonic() < deadline:
            time.sleep(0.005)
    return logged_square(pset)


def noisy(pset):
    """Print from Python, to stderr, and from a child process."""
    import subprocess
    import sys

    print(f"python says {pset['x']}")
    print(f"stderr says {pset['x']}", file=sys.stderr)
    subprocess.run(["echo", f"child says {pset['x']}"], check=True)
    if pset["x"] == 13:
        raise RuntimeError("unlucky")
    return {"y": pset["x"]}


def blob(pset):
    """A result of a few kB (a distinct string per pset), to fill files quickly."""
    return {"blob": f"{pset['x']}:" + "x" * 3000}


def echo_bookkeeping(pset):
    """Results that show what func saw: its bookkeeping keys; fails on x == 3;
    returns a key of its own and overrides the pset's x_label."""
    if pset["x"] == 3:
        raise ValueError("x is 3")
    return {"seen_id": pset["_pset_id"], "seen_seq": pset["_pset_seq"], "x_label": f"x={pset['x']}"}


def unpicklable_on_2(pset):
    """x == 2 returns a lambda (cannot be pickled); the others plain data."""
    if pset["x"] == 2:
        return {"f": (lambda: 1), "ok_": 2}
    return {"r_": pset["x"]}


def hang_on_2(pset):
    """x == 2 sleeps `hang` seconds (default 30); the others return at once."""
    if pset["x"] == 2:
        time.sleep(pset.get("hang", 30))
    return {"y": pset["x"] ** 2}


def hang_deaf_on_0(pset):
    """x == 0 blocks SIGALRM, then sleeps 30 s: only a hard stop ends it."""
    import signal

    if pset["x"] == 0:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(30)
    return {"y": pset["x"] ** 2}


def forgot_return(pset):
    """Computes, but forgot `return` (issue 20, item 21)."""
    pset["x"] ** 2


@ps.sweep(calc_dir="calc")
def decorated_quick_start(pset):
    """The README's quick start as a decorated function."""
    return {"result_": pset["a"] * pset["b"]}


@ps.sweep(calc_dir="calc", skip_dups=False)
def decorated_repeats_on_purpose(pset):
    """A study that repeats its psets on purpose (skip_dups=False given to the decorator)."""
    return {"result_": pset["a"] * pset["b"]}


def square_n(pset):
    """A result from the key 'n_' (a parameter named like a result, issue 20, item 5)."""
    return {"y": pset["n_"] ** 2}


def y_from_a(pset):
    """Returns 'y', which some psets also have as a parameter (issue 20, item 21)."""
    return {"y": pset["a"] * 10}


def exit_on_2(pset):
    """x == 2 prints, then ends as pset["how"] says: "exit" (sys.exit(3)), "bare"
    (sys.exit()) or "raise" (raise SystemExit("bye")); the others return."""
    import sys

    if pset["x"] == 2:
        print("leaving now")
        how = pset.get("how", "exit")
        if how == "exit":
            sys.exit(3)
        if how == "bare":
            sys.exit()
        raise SystemExit("bye")
    return {"y": pset["x"] ** 2}


def print_then_die_on_2(pset):
    """x == 2 prints (print, stderr, the fd 1 itself, text without a newline),
    then kills its process: pset["how"] is "exit" (os._exit(3)) or "segfault"."""
    import ctypes
    import faulthandler
    import sys

    print(f"first {pset['x']}")
    if pset["x"] == 2:
        print("second", file=sys.stderr)
        os.write(1, b"third\n")
        sys.stdout.write("fourth, no newline")
        if pset.get("how", "exit") == "exit":
            os._exit(3)
        # The segfault is the point: no faulthandler dump of it in the suite's
        # log (pytest enables one on its own stderr), where it reads as a crash.
        faulthandler.disable()
        ctypes.string_at(0)  # SIGSEGV
    return {"y": pset["x"] ** 2}


def defer_sigterm_on_0(pset):
    """x == 0 writes its pid to pset["pidfile"], defers SIGTERM (a handler that
    only sets a flag, as checkpointing codes have), blocks SIGALRM and is stuck
    in C code (one sleep of 60 s, which no signal ends); the others return."""
    import signal

    if pset["x"] == 0:
        flag = []
        signal.signal(signal.SIGTERM, lambda signum, frame: flag.append(signum))
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        with open(pset["pidfile"], "w") as fd:
            fd.write(str(os.getpid()))
        time.sleep(60)
    return {"y": pset["x"] ** 2}


def show_pset(pset):
    """Results that show the pset func got: its keys, in order, and its _exec_host."""
    return {"seen_keys": ",".join(pset), "seen_host": pset.get("_exec_host")}


def dask_worker_address(pset):
    """The address of the Dask worker running the pset (distributed.get_worker())."""
    from distributed import get_worker

    return {"address": get_worker().address}


def mark_done(pset):
    """Leave the file marks/<x> (proof that the pset ran), then return x squared."""
    os.makedirs("marks", exist_ok=True)
    with open(os.path.join("marks", str(pset["x"])), "w"):
        pass
    return {"y": pset["x"] ** 2}


def chatty(pset):
    """Print a few lines with pauses between them, so that psets on threads overlap."""
    for i in range(5):
        print(f"pset {pset['x']} line {i}")
        time.sleep(0.01)
    return {"y": pset["x"]}
