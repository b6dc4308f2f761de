"""Tests of psweep/notebook.py: a study run in a real Jupyter kernel (nbclient + ipykernel)."""

from __future__ import annotations

import json
import os
import sys

import nbformat
import pytest
from helpers import run_notebook

import psweep as ps
from psweep.provenance._notebook import command_line, kernel_shell, notebook_path, notebook_source

TIMEOUT = 120
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
CELLS = [
    "import psweep as ps",
    "def helper(x):\n    return x * 10",
    '@ps.sweep(calc_dir="calc")\ndef f(pset):\n    return {"y": helper(pset["x"])}',
    '%time df = f.over(ps.plist("x", [1, 2, 3]))',
    "sweep_run = df._run_id.iloc[-1]\nprint(sweep_run)",
    'def g(pset):\n    return {"z": pset["x"] + 1}\n'
    'plain_run = ps.run(g, ps.plist("x", [7]), calc_dir="calc")._run_id.iloc[-1]\nprint(plain_run)',
    "cell_after_the_runs = 1",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Run the notebook CELLS in a real kernel; return (folder, notebook path, cells, outputs, kernel pid)."""
    folder = tmp_path_factory.mktemp("notebook")
    path = folder / "study.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code) for code in CELLS]
    nbformat.write(nb, path)
    nb, pid = run_notebook(path, timeout=TIMEOUT)
    outputs = ["".join(out.get("text", "") for out in cell.outputs).strip() for cell in nb.cells]
    return folder, str(path), nb.cells, outputs, pid


def test_progress_bar_is_a_widget_by_default_in_a_kernel(executed):
    """In a notebook kernel, .over() draws tqdm's widget without progress=True."""
    _, _, cells, _, _ = executed
    over_cell = cells[CELLS.index('%time df = f.over(ps.plist("x", [1, 2, 3]))')]
    mimes = [mime for out in over_cell.outputs for mime in out.get("data", {})]
    assert WIDGET_MIME in mimes


def test_run_source_is_the_notebook_cells_run_so_far(executed):
    """A notebook run stores the notebook's path and every cell run up to the run as its source."""
    folder, path, _, outputs, _ = executed
    run_id = outputs[4]
    source = (folder / "calc" / "backup_script" / f"{run_id}.py").read_text()
    assert f"# notebook: {path}\n" in source
    assert "# In[2]:\ndef helper(x):\n    return x * 10\n" in source  # a cell not decorated
    assert "run_line_magic('time', 'df = f.over(" in source  # the running cell, magics as Python
    assert "sweep_run" not in source and "cell_after_the_runs" not in source
    compile(source, "source.py", "exec")  # a valid .py file


def test_plain_run_in_a_notebook_records_the_notebook_too(executed):
    """ps.run without backup_script also stores the cells run so far in a notebook."""
    folder, _, _, outputs, _ = executed
    source = (folder / "calc" / "backup_script" / f"{outputs[5]}.py").read_text()
    assert "def helper(x)" in source and "def g(pset)" in source


def test_provenance_names_the_notebook_not_the_kernel_launcher(executed):
    """backup_script/<_run_id>.json records the notebook as the command line, and the code hash."""
    folder, path, _, outputs, _ = executed
    for run_id in outputs[4:6]:
        info = json.loads((folder / "calc" / "backup_script" / f"{run_id}.json").read_text())
        assert info["argv"] == [path]
        assert info["code_hash"].startswith("src:")  # hashed from the cell's text
    df = ps.df_read(str(folder / "calc" / "results.pk"))
    assert df["y"].dropna().tolist() == [10, 20, 30]


def test_kernel_process_is_gone_after_the_notebook_ran(executed):
    """The kernel the tests started is shut down and reaped."""
    pid = executed[4]
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_outside_a_kernel_nothing_changes():
    """In a plain process there is no kernel: argv as is, no notebook source."""
    assert kernel_shell() is None
    assert notebook_source() is None
    assert command_line() == sys.argv


class _Shell:
    """What notebook_path reads of a kernel's shell: its user namespace."""

    def __init__(self, **user_ns):
        self.user_ns = user_ns


def test_notebook_path_from_what_the_frontend_sets(monkeypatch):
    """VS Code's variable wins, then __session__/JPY_SESSION_NAME; a console session is no notebook."""
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert notebook_path(_Shell()) is None
    monkeypatch.setenv("JPY_SESSION_NAME", "/nb/a.ipynb")
    assert notebook_path(_Shell()) == "/nb/a.ipynb"
    assert notebook_path(_Shell(__vsc_ipynb_file__="/nb/b.ipynb")) == "/nb/b.ipynb"
    monkeypatch.setenv("JPY_SESSION_NAME", "Console 1-5f0c")
    assert notebook_path(_Shell(__session__="Console 1-5f0c")) is None
