"""Machine folders: info.yaml and the job script template, read from real folders."""

from __future__ import annotations

from pathlib import Path

import pytest

import psweep as ps
from batch_trees import make_templates


# -- machines ------------------------------------------------------------------


@pytest.mark.parametrize("info,match", [
    (None, "info.yaml"),
    ("array: true\n", "subcmd"),
    ("subcmd: sh\nscheduler: lsf\n", "scheduler"),
    ("subcmd: sh\narray: true\n", "scheduler: slurm"),
    ("subcmd: qsub\nscheduler: pbs\narray_limit: 0\n", "array_limit"),
    ("subcmd: sh\ntemplate: x\n", "template"),
    ("- a list\n", "mapping"),
])
def test_bad_machine_folders_are_clear_errors(tmp_path, info, match):
    """A missing info.yaml, missing subcmd or a bad array setting names the file and the fix."""
    mdir = tmp_path / "machines" / "m"
    mdir.mkdir(parents=True)
    (mdir / "jobscript").write_text("true\n")
    if info is not None:
        (mdir / "info.yaml").write_text(info)
    with pytest.raises(ps.TemplateError, match=match):
        ps.Machine(mdir)


def test_missing_template_folders_are_clear_errors(tmp_path):
    """Template folders that do not exist are TemplateErrors naming the path."""
    with pytest.raises(ps.TemplateError, match="calc_templ_dir"):
        ps.gather_calc_templates(tmp_path / "nope")
    with pytest.raises(ps.TemplateError, match="machine_templ_dir"):
        ps.gather_machines(tmp_path / "nope")
    (tmp_path / "machines" / "m").mkdir(parents=True)
    (tmp_path / "machines" / "m" / "info.yaml").write_text("subcmd: sh\n")
    with pytest.raises(ps.TemplateError, match="job script"):
        ps.gather_machines(tmp_path / "machines")


def test_machine_info_keys_become_attributes(tmp_path):
    """Every info.yaml key is an attribute, as in psweep 0.16; qsub machines name their scheduler."""
    mdir = tmp_path / "machines" / "hpc"
    mdir.mkdir(parents=True)
    (mdir / "jobscript").write_text("true\n")
    (mdir / "info.yaml").write_text("subcmd: qsub\nscheduler: sge\nqueue: long\n")
    machine = ps.gather_machines(tmp_path / "machines")[0]
    assert (machine.name, machine.subcmd, machine.scheduler, machine.queue) == ("hpc", "qsub", "sge", "long")
    assert machine.template.targetname == "jobscript_hpc"
    assert not machine.array and machine.array_limit is None


def test_machine_folder_with_a_space_is_refused_naming_it(tmp_path):
    """A machine folder named 'my cluster' is a TemplateError naming it and a fix, before anything is written."""
    kw = make_templates(tmp_path / "t", machines={"my cluster": ("subcmd: sbatch\n", "sh run.sh\n")})
    with pytest.raises(ps.TemplateError, match=r"'my cluster'.*Rename the folder, e.g. to 'my_cluster'"):
        ps.prep_batch(ps.plist("a", [1]), array=True, **kw)
    assert not Path("calc").exists()


@pytest.mark.parametrize("name", ["a;b", "it's", "x$y", "tab\there"])
def test_machine_names_shells_would_split_are_refused(tmp_path, name):
    """Machine folder names with shell-special characters are refused."""
    mdir = tmp_path / "machines" / name
    mdir.mkdir(parents=True)
    (mdir / "info.yaml").write_text("subcmd: sh\n")
    (mdir / "jobscript").write_text("true\n")
    with pytest.raises(ps.TemplateError, match="Rename the folder"):
        ps.Machine(mdir)
