"""README.md as a user reads it: its Python blocks run as pasted, its
set-up commands work pasted in order into one shell, and it stays a front
page (the manual is docs/, whose blocks tests/docs runs)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")

# An HTML comment (invisible on GitHub) right before a block: run it in the
# folder the previous block ran in, which it builds on (files, a calc dir).
CONTINUE = "<!-- continues the previous block -->"


def _blocks(language: str) -> list[tuple[int, str, bool]]:
    """(line number, code, continues) of each fenced block of `language` in README."""
    with open(README, encoding="utf-8") as fd:
        lines = fd.read().splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == f"```{language}":
            start = i
            body = []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            before = [line for line in lines[:start] if line.strip()]
            continues = bool(before) and before[-1].strip() == CONTINUE
            blocks.append((start + 1, "\n".join(body) + "\n", continues))
        i += 1
    return blocks


PYTHON_BLOCKS = _blocks("python")


def test_readme_has_python_blocks():
    """The README test below sees the README's Python blocks (the quick start)."""
    assert len(PYTHON_BLOCKS) >= 2


def test_readme_is_a_front_page():
    """README stays at most 200 lines, and each docs page it links to exists."""
    with open(README, encoding="utf-8") as fd:
        text = fd.read()
    assert len(text.splitlines()) <= 200, "README.md is a front page: move text to a page of docs/"
    links = re.findall(r"\]\((docs/[^)#]+\.md)", text)
    assert len(links) >= 20, links
    missing = [link for link in links if not os.path.exists(os.path.join(ROOT, link))]
    assert not missing, f"README.md links to pages that don't exist: {missing}"


def test_readme_docs_command_is_the_one_ci_runs():
    """The command README gives to build the docs is the build .ci/run does (warnings as errors)."""
    with open(README, encoding="utf-8") as fd:
        section = fd.read().split("## Documentation", 1)[1].split("\n## ", 1)[0]
    (command,) = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    build = command.strip().split(" && ")[-1]
    assert build.startswith(".venv/bin/sphinx-build -W "), build
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as fd:
        assert build in fd.read().splitlines(), f".ci/run does not run README's docs build: {build}"


@pytest.fixture(scope="module")
def block_dirs(tmp_path_factory):
    """One folder per chain of blocks: a block that continues uses its predecessor's."""
    dirs = {}
    current = None
    for line, _code, continues in PYTHON_BLOCKS:
        if not continues or current is None:
            current = str(tmp_path_factory.mktemp(f"readme_line{line}"))
        dirs[line] = current
    return dirs


@pytest.mark.parametrize("line,code,continues", PYTHON_BLOCKS, ids=[f"line{b[0]}" for b in PYTHON_BLOCKS])
def test_readme_python_block_runs_as_pasted(line, code, continues, block_dirs):
    """Each Python block of README runs as a script in a fresh process, with
    no names given (its imports are its own); a block marked as continuing
    the previous one finds that block's files."""
    folder = block_dirs[line]
    script = os.path.join(folder, f"readme_line{line}.py")
    with open(script, "w", encoding="utf-8") as fd:
        fd.write(code)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, script], cwd=folder, capture_output=True, text=True, timeout=240, env=env
    )
    assert proc.returncode == 0, f"README.md line {line}:\n{code}\n--- stderr:\n{proc.stderr[-3000:]}"


def _setup_commands() -> list[str]:
    """The README's set-up commands (the sh blocks of its set-up section), in order."""
    with open(README, encoding="utf-8") as fd:
        text = fd.read()
    section = text.split("## Set up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S)]


def test_setup_commands_work_pasted_in_order_into_one_shell(tmp_path):
    """The example-study command and then the test command, pasted into one
    shell in a fresh clone: the first runs the example and leaves the shell
    where the second needs it (the clone's top folder).

    `python3 -m venv` and pip are stood in for by a fake python3 whose venv
    runs this interpreter (which has psweep and the test tools): what is
    checked is the shell part of the commands, the folder each runs in and
    that the example study runs; installing is what CI's own run of the
    same commands checks.
    """
    commands = _setup_commands()
    assert len(commands) >= 2, commands
    clone = tmp_path / "clone"
    shutil.copytree(os.path.join(ROOT, "examples"), clone / "examples", ignore=shutil.ignore_patterns("calc*"))
    shutil.copy(README, clone / "README.md")
    fake_bin = tmp_path / "bin"
    venv_bin = tmp_path / "venv_bin"  # what the fake python3 puts into a new venv
    for folder in (fake_bin, venv_bin):
        folder.mkdir()
    log = tmp_path / "log"
    _executable(
        venv_bin / "python",
        f"""#!/bin/sh
# A venv's python: pip and pytest only note the folder they run in.
case "$1 $2" in
  "-m pip") echo "pip $PWD" >> '{log}'; exit 0;;
  "-m pytest") echo "pytest $PWD" >> '{log}'; exit 0;;
esac
exec '{sys.executable}' "$@"
""",
    )
    _executable(venv_bin / "pip", '#!/bin/sh\nexec "$(dirname "$0")/python" -m pip "$@"\n')
    _executable(
        fake_bin / "python3",
        f"""#!/bin/sh
# python3 -m venv DIR: a folder whose bin/python runs the tested interpreter.
[ "$1 $2" = "-m venv" ] || exec '{sys.executable}' "$@"
mkdir -p "$3/bin"
cp '{venv_bin}/python' '{venv_bin}/pip' "$3/bin/"
printf 'PATH="%s/bin:$PATH"\\n' "$(cd "$3" && pwd)" > "$3/bin/activate"
""",
    )
    script = "set -e\n" + "\n".join(commands) + "\n"
    env = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        ["bash", "-c", script], cwd=clone, capture_output=True, text=True, timeout=240, env=env
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (clone / "examples" / "calc" / "results.pk").exists(), "the example study wrote no database"
    ran = log.read_text().splitlines()
    assert f"pytest {clone}" in ran, f"the test command ran in the wrong folder: {ran}"


def _executable(path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)
