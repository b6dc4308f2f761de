"""``ps.ui``: serve the views of a calc dir on this machine until Ctrl-C."""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import webbrowser

from psweep.ui._app import create_app
from psweep.ui._extra import require_extra
from psweep.ui._study import Study

__all__ = ["free_port", "ui"]


def free_port(host: str) -> int:
    """A TCP port free on `host` now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def ui(
    calc_dir: str | os.PathLike[str] = "calc",
    port: int = 0,
    host: str = "127.0.0.1",
    open_browser: bool = True,
    database_basename: str | None = None,
) -> None:
    """Serve a local web view of a calc dir until Ctrl-C: runs, results, failures, coverage, psets.

    The views only read: the calc dir stays byte for byte as it was (no
    fold, no lock file). They follow runs that are still going, without
    reloading the page.

    Parameters
    ----------
    calc_dir
        The calc dir.
    port
        TCP port; 0 picks a free one. The URL is printed on start.
    host
        Address to listen on; only this machine by default. Give
        ``0.0.0.0`` only on a network you trust: anyone reaching the port
        sees the study and the files of its psets.
    open_browser
        Open the URL in the default web browser.
    database_basename
        The database file in `calc_dir`; default: the one it holds.

    Raises
    ------
    MissingDependencyError
        Without the ``ui`` extra (``pip install "psweep[ui]"``).

    Examples
    --------
    >>> import psweep as ps
    >>> ps.ui("calc")  # doctest: +SKIP
    psweep ui: serving 'calc' at http://127.0.0.1:8050/ (Ctrl-C to stop)
    """
    require_extra()
    study = Study(os.fspath(calc_dir), database_basename)
    app = create_app(study)
    port = port or free_port(host)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    print(f"psweep ui: serving {study.calc_dir!r} at {url} (Ctrl-C to stop)", flush=True)
    if study.error:
        print(f"psweep ui: {study.error}", file=sys.stderr, flush=True)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    try:
        app.run(host=host, port=port, debug=False)
    except KeyboardInterrupt:
        pass
    print("psweep ui: stopped", flush=True)
