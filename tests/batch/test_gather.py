"""df_gather: the output of pset folders read back into the frame."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import psweep as ps
from batch_trees import TIMEOUT, make_templates


# -- df_gather -------------------------------------------------------------------------


def test_df_gather_reads_outputs_and_lists_missing(tmp_path):
    """df_gather adds the loaded columns and returns the rows whose output is missing."""
    kw = make_templates(tmp_path / "t")
    df = ps.prep_batch(ps.plist("a", [1, 2, 3]), **kw)
    for pset_id in df["_pset_id"].iloc[:2]:
        subprocess.run(["sh", "run.sh"], cwd=Path("calc", pset_id), check=True, timeout=TIMEOUT)

    def load(pset_dir):
        with open(os.path.join(pset_dir, "out.txt")) as fd:
            value = int(fd.read())
        return {"out_": value, "twice_": [value, value]}

    gathered, missing = ps.df_gather(ps.df_read("calc/results.pk"), load)
    assert gathered["out_"].tolist()[:2] == [1, 2] and pd.isna(gathered["out_"].iloc[2])
    assert gathered["twice_"].iloc[1] == [2, 2]
    assert missing["_pset_id"].tolist() == [df["_pset_id"].iloc[2]]
    assert "out_" not in df.columns  # the input frame is not changed
    # From elsewhere, with the calc dir at another path; a None from load is missing too.
    shutil.move("calc", "moved")
    again, missing = ps.df_gather(gathered, lambda d: load(d) if "out.txt" in os.listdir(d) else None,
                                  calc_dir="moved")
    assert again["out_"].tolist()[:2] == [1, 2] and len(missing) == 1


def test_df_gather_errors_name_the_pset_folder(tmp_path):
    """A load that fails for another reason than a missing file is an error naming the folder."""
    df = pd.DataFrame({"_pset_id": ["p1"], "_calc_dir": ["calc"]})
    with pytest.raises(ps.PsweepError, match="calc/p1"):
        ps.df_gather(df, lambda d: 1 / 0)
    with pytest.raises(ps.ParamsError, match="returned a int"):
        ps.df_gather(df, lambda d: 5)
    with pytest.raises(ps.ParamsError, match="_pset_id"):
        ps.df_gather(pd.DataFrame({"a": [1]}), lambda d: {})


def test_batch_errors_pickle_and_derive_from_builtins():
    """TemplateError is a ValueError, MissingDependencyError an ImportError; both survive pickling."""
    for cls, builtin in ((ps.TemplateError, ValueError), (ps.MissingDependencyError, ImportError)):
        err = pickle.loads(pickle.dumps(cls("template 'x': placeholder 'a' not in the pset")))
        assert type(err) is cls and isinstance(err, builtin) and isinstance(err, ps.PsweepError)
        assert "placeholder 'a'" in str(err)
