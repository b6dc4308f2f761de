"""What a run tells its user (issue 20, items 17, 18, 21): missing extras, Ctrl-C at any moment,
a function that returns nothing, a study run again."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import psweep as ps
import workers

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter in the current folder."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout
    )


# -- item 17: progress=True without tqdm ----------------------------------------------------


def test_progress_true_without_tqdm_is_a_missing_dependency_error_with_the_install_command():
    """progress=True where tqdm cannot be imported: MissingDependencyError (an ImportError), before any work."""
    proc = run_python(
        """
        import sys
        sys.modules["tqdm"] = None  # tqdm is not importable
        import psweep as ps
        from psweep.errors import MissingDependencyError
        try:
            ps.run(lambda pset: {"y": 1}, ps.plist("x", [1]), progress=True)
        except ImportError as exc:
            print(type(exc).__name__, isinstance(exc, MissingDependencyError))
            print(exc)
        import os
        print("calc exists:", os.path.exists("calc"))
        """
    )
    assert proc.returncode == 0, proc.stderr
    first, message, created = proc.stdout.strip().splitlines()
    assert first == "MissingDependencyError True"
    assert "progress=True" in message and "'tqdm'" in message
    assert "pip install tqdm" in message
    assert created == "calc exists: False"


def test_progress_default_without_tqdm_runs_without_a_bar():
    """progress left at its default where tqdm cannot be imported: the run goes on, no error."""
    proc = run_python(
        """
        import sys
        sys.modules["tqdm"] = None
        import psweep as ps
        print(len(ps.run(lambda pset: {"y": 1}, ps.plist("x", [1, 2]))))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "2"


# -- item 21: a function that returns nothing ------------------------------------------------


def _messages(record, text: str) -> list[str]:
    return [str(w.message) for w in record if text in str(w.message)]


@pytest.mark.parametrize("poolsize", [None, 2])
def test_function_that_returns_nothing_warns_once_naming_it_and_the_fix(poolsize):
    """Every pset returned None: one warning naming the function and 'return {...}'; rows are stored."""
    with pytest.warns(UserWarning, match="returned a result") as record:
        df = ps.run(workers.forgot_return, ps.plist("x", [1, 2, 3]), poolsize=poolsize)
    (message,) = _messages(record, "returned a result")
    assert message.startswith("psweep: none of the 3 successful psets of this run returned a result")
    assert "forgot_return()" in message and "return {'result': value}" in message
    assert record[0].filename == __file__
    assert len(df) == 3


def test_explicit_empty_dicts_and_one_result_are_no_forgotten_return():
    """Only None everywhere warns: `return {}` (no results on purpose), one pset
    returning a result, or the pset itself returned, stay silent."""
    import warnings

    cases = [
        lambda pset: {},
        lambda pset: {"y": 1} if pset["x"] == 2 else None,
        lambda pset: pset,
        lambda pset: {**pset, "y_": pset["x"]},
        lambda pset: {"x": pset["x"], "_note": "seen"},
    ]
    for index, func in enumerate(cases):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            ps.run(func, ps.plist("x", [1, 2]), calc_dir=f"b{index}")
        assert _messages(record, "returned a result") == [], index
    with pytest.warns(UserWarning, match="returned a result"):
        ps.run(lambda pset: None, ps.plist("x", [1, 2]), calc_dir="none")


def test_no_result_warning_is_left_out_of_dry_runs_failed_runs_and_prep_batch(tmp_path):
    """simulate=True, runs whose psets all failed, and prep_batch (its rows are read back later) stay silent."""
    import warnings

    templates = tmp_path / "templates"
    (templates / "calc").mkdir(parents=True)
    (templates / "machines" / "local").mkdir(parents=True)
    (templates / "calc" / "input.txt").write_text("x={{x}}\n")
    (templates / "machines" / "local" / "jobscript").write_text("#!/bin/sh\n")
    (templates / "machines" / "local" / "info.yaml").write_text("subcmd: sh\n")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ps.run(workers.square, ps.plist("x", [1]), simulate=True)
        ps.run(workers.fail_on_3, ps.plist("x", [3]), calc_dir="failing")
        ps.prep_batch(ps.plist("x", [1, 2]), calc_templ_dir=str(templates / "calc"),
                      machine_templ_dir=str(templates / "machines"), calc_dir="batch")
    assert _messages(record, "returned a result") == []


def test_the_none_mark_of_a_row_is_counted_and_never_stored():
    """The worker marks a row whose function returned None; the recorder counts it
    and removes the mark before the row is kept, at one key lookup per row."""
    from psweep.engine._recorder import Recorder
    from psweep._schema import NO_RESULT_KEY
    from psweep.store._store import Store
    from psweep.execute._worker import execute_pset

    marked = execute_pset(lambda pset: None, {"x": 1})
    assert marked[NO_RESULT_KEY] is True
    assert NO_RESULT_KEY not in execute_pset(lambda pset: {}, {"x": 1})
    assert NO_RESULT_KEY not in execute_pset(lambda pset: None, {"x": 1}, simulate=True)
    assert NO_RESULT_KEY not in execute_pset(workers.fail_on_3, {"x": 3})
    recorder = Recorder(Store("calc"), "run", save=False)
    recorder.record(marked)
    assert not recorder.returned_results
    assert NO_RESULT_KEY not in next(iter(recorder.memory_rows))
    recorder.record(execute_pset(lambda pset: {"y": 4}, {"x": 2}))
    assert recorder.returned_results


@pytest.mark.parametrize("executor", ["threads", "dask"])
def test_function_that_returns_nothing_warns_on_threads_and_dask(executor):
    """The None mark travels back from thread pools and Dask workers too."""
    if executor == "threads":
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            with pytest.warns(UserWarning, match="returned a result"):
                ps.run(workers.forgot_return, ps.plist("x", [1, 2]), executor=pool)
        return
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)
    with cluster:
        with distributed.Client(cluster) as client, pytest.warns(UserWarning, match="returned a result"):
            df = ps.run(workers.forgot_return, ps.plist("x", [1, 2]), executor=client)
    assert not any(str(c).startswith("__psweep") for c in df.columns)


def test_a_result_named_like_another_psets_parameter_counts_as_a_result():
    """Psets of two key sets, results under a parameter name of the other set: no 'returned nothing' warning."""
    import warnings

    params = [{"a": 1}, {"a": 2, "y": 5}, {"a": 3}]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ps.run(workers.y_from_a, params)
    assert _messages(record, "returned a result") == []


# -- item 21: a study run again without skip_dups -----------------------------------------------

QUICK_START = ps.pgrid(ps.plist("a", [1, 2, 3]), ps.plist("b", [0.1, 0.2]))


def test_running_the_quick_start_again_says_once_that_it_repeated_its_psets():
    """A second ps.run of the same params without skip_dups: one notice with the count and the fix."""
    import warnings

    with warnings.catch_warnings(record=True) as first:
        warnings.simplefilter("always")
        ps.run(workers.decorated_quick_start.__wrapped__, QUICK_START)
    assert _messages(first, "skip_dups") == []
    with pytest.warns(UserWarning, match="already had successful rows") as record:
        df = ps.run(workers.decorated_quick_start.__wrapped__, QUICK_START)
    (message,) = _messages(record, "already had successful rows")
    assert message.startswith("psweep: 6 of the 6 psets of this run already had successful rows in calc/")
    assert "skip_dups=True" in message and "skip_dups=False" in message
    assert record[0].filename == __file__
    assert len(df) == 12


def test_decorated_study_run_again_says_so_too():
    """f.over(params) twice, skip_dups given nowhere: the notice; given to the decorator or .over(): silence."""
    import warnings

    workers.decorated_quick_start.over(QUICK_START[:2])
    with pytest.warns(UserWarning, match="2 of the 3 psets of this run already had successful rows"):
        workers.decorated_quick_start.over(QUICK_START[:3])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        workers.decorated_quick_start.over(QUICK_START[:3], skip_dups=False)
        workers.decorated_repeats_on_purpose.over(QUICK_START[:3])
        workers.decorated_quick_start.copy(skip_dups=False).over(QUICK_START[:3])
        df = workers.decorated_quick_start.over(QUICK_START, skip_dups=True)
    assert _messages(record, "already had successful rows") == []
    assert len(df) == 2 + 3 + 3 + 3 + 3 + 3


def test_repeating_on_purpose_and_rerunning_failed_psets_stay_silent():
    """skip_dups=False given, and psets whose earlier rows failed, get no notice."""
    import warnings

    ps.run(workers.fail_on_3, ps.plist("x", [3]))
    ps.run(workers.square, ps.plist("x", [1]))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ps.run(workers.square, ps.plist("x", [3]))  # its earlier row failed
        ps.run(workers.square, ps.plist("x", [1]), skip_dups=False)
    assert _messages(record, "already had successful rows") == []


def test_run_default_shows_skip_dups_false_and_rejects_other_values():
    """help(ps.run) shows skip_dups=False; the default acts as False; other values are ParamsErrors."""
    import inspect

    assert "skip_dups: 'bool | str' = False" in str(inspect.signature(ps.run))
    assert not inspect.signature(ps.run).parameters["skip_dups"].default
    with pytest.raises(ps.ParamsError, match="skip_dups='yes'"):
        ps.run(workers.square, ps.plist("x", [1]), skip_dups="yes")


def test_notice_of_a_run_in_memory_and_of_a_dry_run():
    """save=False compares with the database in memory; simulate=True says it would repeat them."""
    ps.run(workers.square, ps.plist("x", [1, 2]))
    with pytest.warns(UserWarning, match="2 of the 2 psets of this run already had successful rows"):
        ps.run(workers.square, ps.plist("x", [1, 2]), save=False)
    with pytest.warns(UserWarning, match="psets of this dry run .* would repeat them"):
        ps.run(workers.square, ps.plist("x", [1, 2, 3]), simulate=True)


def test_notice_tells_repeated_psets_from_psets_that_differ_only_in_left_out_keys():
    """plist('n_', [1, 2, 3]) after [1, 2]: 2 repeated, 1 has an earlier row's hash but another n_ (named)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ps.run(workers.square_n, ps.plist("n_", [1, 2]))
    with pytest.warns(UserWarning, match="already had successful rows") as record:
        ps.run(workers.square_n, ps.plist("n_", [1, 2, 3]))
    (message,) = _messages(record, "already had successful rows")
    assert message.startswith("psweep: 2 of the 3 psets of this run already had successful rows")
    assert "1 more pset has the _pset_hash of earlier rows but differs from them" in message
    assert "'n_'" in message


# -- item 18: Ctrl-C at any moment, also in the final fold --------------------------------------

INTERRUPTED_DRIVER = """
import os, sys, time
import psweep as ps
from fold_gate import FoldGate

def func(pset):
    if pset["x"] == 1:
        return {"y": 1, "gate_": FoldGate()}
    if pset["x"] == 2 and sys.argv[1] == "twice":
        open("in-pset", "w").close()
        time.sleep(60)  # the first Ctrl-C ends this pset
    return {"y": pset["x"] ** 2}

ps.run(func, ps.plist("x", [1, 2, 3]), calc_dir="calc")
"""


@pytest.mark.parametrize("when", ["fold", "twice"])
def test_ctrl_c_in_the_final_fold_ends_with_the_saved_line_and_loses_no_row(when):
    """SIGINT in the final fold (also a second one, after one in a pset): the line, and every row kept."""
    import re
    import signal

    from helpers import wait_until

    env = {**os.environ, "PSWEEP_TEST_FOLD_GATE": os.getcwd()}
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_DRIVER, when],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        if when == "twice":
            wait_until(lambda: os.path.exists("in-pset"), 120, "pset x=2 to start")
            proc.send_signal(signal.SIGINT)
        wait_until(lambda: os.path.exists("folding"), 120, "the final fold")
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    n_saved = 3 if when == "fold" else 1
    last = stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        rf"(KeyboardInterrupt: )?psweep: interrupted; {n_saved} of 3 psets of this run are saved in "
        rf"calc/results.pk\. Run the same study again with skip_dups=True to do only the {3 - n_saved} missing\.",
        last,
    ), stderr[-3000:]
    assert "TimeoutError" not in stderr
    df = ps.df_read("calc")  # folds the journal the interrupted fold left
    assert sorted(df["x"].tolist()) == [1, 2, 3][:n_saved]
    assert not [n for n in os.listdir("calc") if n.endswith(".tmp")]
    assert ps.runs("calc")["state"].tolist() == ["interrupted"]
