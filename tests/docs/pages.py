"""Run the code blocks of a docs page as the docs' conventions say
(docs/contributing.md, "The docs' code blocks"), and check the output
that the page shows.

- ```python blocks run in page order in one namespace (``__name__`` is
  ``"__main__"``), ```bash blocks with ``bash -e`` in between, all in one
  fresh folder, with this interpreter's ``python`` and ``psweep`` first on
  PATH;
- ``<!-- no-run: REASON -->`` on the line before a block: shown, not run;
- a ```text block right after a run block (nothing but blank lines between)
  is that block's output: its stdout must match, after UUIDs, times and the
  page's folder are normalised, with doctest's ``...`` and whitespace rules.

``main(PAGE, FOLDER)`` runs one page in this process, whose ``__main__``
namespace the page's Python blocks share (start it with ``python -c``, so
that it holds nothing of ours), and exits 1 with a report of the first
block that failed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import doctest
import io
import linecache
import os
import re
import subprocess
import sys
import traceback

NO_RUN = re.compile(r"^<!--\s*no-run:(?P<reason>.*?)-->\s*$")
FENCE = re.compile(r"^```(?P<lang>[^`\s]*)\s*$")
RUN_LANGS = ("python", "bash")
# Languages of code a reader runs that the runner would not run: a page
# says python or bash (or no-run), so that no block is silently left out.
OTHER_CODE_LANGS = ("sh", "shell", "console", "zsh", "py", "python3", "pycon", "ipython")
UUID = re.compile(r"(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-f])")
TIME = re.compile(r"(?<!\d)\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?")
CHECKER_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


class PageError(Exception):
    """A page that breaks the conventions (a no-run without a reason, an open fence)."""


@dataclasses.dataclass
class Block:
    lang: str
    code: str
    line: int  # of the opening fence, 1-based
    skip: str | None = None  # the no-run reason
    expected: str | None = None  # the ```text block right after it


def parse(text: str, name: str = "page") -> list[Block]:
    """The fenced blocks of a page, with their no-run reasons and shown outputs."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    last_close = None  # (line index of a closing fence, the block it closed)
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match or not match.group("lang"):
            i += 1
            continue
        start = i
        lang = match.group("lang")
        body = []
        i += 1
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise PageError(f"{name}:{start + 1}: the ```{lang} block is never closed")
        code = "\n".join(body) + "\n"
        before = [j for j in range(start) if lines[j].strip()]
        prev = lines[before[-1]] if before else ""
        skip = None
        no_run = NO_RUN.match(prev.strip())
        if no_run:
            skip = no_run.group("reason").strip()
            if not skip:
                raise PageError(f"{name}:{start + 1}: '<!-- no-run: REASON -->' needs a reason")
        if lang in OTHER_CODE_LANGS and skip is None:
            raise PageError(f"{name}:{start + 1}: a ```{lang} block is not run: make it ```bash or "
                            f"```python, or say why not with '<!-- no-run: REASON -->'")
        if lang == "text" and last_close and before and before[-1] == last_close[0]:
            last_close[1].expected = code
        elif lang in RUN_LANGS:
            block = Block(lang, code, start + 1, skip)
            blocks.append(block)
            last_close = (i, block) if skip is None else None
        i += 1
    return blocks


def normalise(text: str, folder: str) -> str:
    """Output with the parts that differ between runs replaced by placeholders."""
    text = text.replace(os.path.realpath(folder), "<folder>").replace(folder, "<folder>")
    text = UUID.sub("<uuid>", text)
    return TIME.sub("<time>", text)


def output_differs(expected: str, got: str, folder: str) -> bool:
    """Whether ``got`` fails to match the shown ``expected`` output."""
    checker = doctest.OutputChecker()
    want = normalise(expected, folder)
    return not checker.check_output(want, normalise(got, folder), CHECKER_FLAGS)


def _run_python(block: Block, namespace: dict, name: str) -> tuple[bool, str]:
    out = io.StringIO()
    filename = f"{name}:{block.line}"
    # inspect.getsource (psweep's source capture) finds the block's code by its file name.
    linecache.cache[filename] = (len(block.code), None, block.code.splitlines(True), filename)
    code = compile(block.code, filename, "exec")
    try:
        with contextlib.redirect_stdout(out):
            exec(code, namespace)
    except BaseException:  # noqa: B036 - report SystemExit and KeyboardInterrupt of a block too
        return False, out.getvalue() + "\n" + traceback.format_exc()
    return True, out.getvalue()


def _run_bash(block: Block, folder: str) -> tuple[bool, str]:
    bindir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "COLUMNS": "200"}
    proc = subprocess.run(
        ["bash", "-e", "-c", block.code], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        return False, f"{proc.stdout}\n--- stderr (exit {proc.returncode}):\n{proc.stderr}"
    return True, proc.stdout


def run_page(path: str, folder: str) -> str | None:
    """Run the page's blocks in ``folder``; None, or what went wrong first."""
    parts = path.rsplit(f"{os.sep}docs{os.sep}", 1)
    name = f"docs/{parts[1]}" if len(parts) == 2 else path
    with open(path, encoding="utf-8") as fd:
        blocks = parse(fd.read(), name)
    main = sys.modules["__main__"]
    namespace = main.__dict__  # so that pools and pickle find the page's functions as __main__.f
    os.chdir(folder)
    for block in blocks:
        if block.skip is not None:
            continue
        if block.lang == "python":
            ok, out = _run_python(block, namespace, name)
        else:
            ok, out = _run_bash(block, folder)
        if not ok:
            return f"{name}:{block.line}: the ```{block.lang} block failed:\n{block.code}\n--- output:\n{out}"
        if block.expected is not None and output_differs(block.expected, out, folder):
            return (f"{name}:{block.line}: the ```{block.lang} block's output differs from the page's.\n"
                    f"--- the page shows:\n{block.expected}\n--- it printed:\n{out}")
    return None


def main(page: str, folder: str) -> None:
    """Run ``page`` in ``folder``; exit 1 with the report of its first failed block."""
    problem = run_page(os.path.abspath(page), os.path.abspath(folder))
    if problem:
        print(problem, file=sys.stderr)
        sys.exit(1)
