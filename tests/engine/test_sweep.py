"""Tests of psweep/sweep.py: the decorator, its methods, pickling by reference."""

from __future__ import annotations

import inspect
import os
import pickle
import subprocess
import sys
import textwrap

import pytest

import psweep as ps
import workers


def run_script(code: str, name: str = "study.py") -> subprocess.CompletedProcess:
    with open(name, "w") as fd:
        fd.write(textwrap.dedent(code))
    return subprocess.run(
        [sys.executable, name], capture_output=True, text=True, timeout=180
    )


def test_decorated_function_behaves_like_the_function():
    """Calling, __name__, __doc__, signature and __wrapped__ are the function's."""
    f = workers.decorated_square
    assert f({"x": 3}) == {"y": 9, "pid": os.getpid()}
    assert f.__name__ == "decorated_square"
    assert f.__doc__ == "Square x."
    assert str(inspect.signature(f)) == "(pset)"
    assert f.__wrapped__({"x": 2})["y"] == 4
    assert isinstance(f, ps.Sweep)


def test_bare_and_configured_decorator():
    """@ps.sweep and @ps.sweep(...) both give a Sweep; options reach run()."""
    @ps.sweep
    def bare(pset):
        return {"y": 1}

    @ps.sweep(calc_dir="other")
    def configured(pset):
        return {"y": 2}

    assert len(bare.over(ps.plist("x", [1]))) == 1
    assert os.path.isfile("calc/results.pk")
    df = configured.over(ps.plist("x", [1, 2]))
    assert df["y"].tolist() == [2, 2]
    assert os.path.isfile("other/results.pk")


def test_nothing_is_written_at_decoration_time():
    """Decorating creates no files or folders."""
    @ps.sweep(calc_dir="calc", backup=True)
    def f(pset):
        return {}

    assert os.listdir(".") == []


def test_unknown_option_is_rejected_at_decoration():
    """A misspelt option raises TypeError listing the valid ones."""
    with pytest.raises(TypeError, match="'calcdir'.*calc_dir"):
        @ps.sweep(calcdir="x")
        def f(pset):
            return {}


def test_over_overrides_options_for_one_call():
    """Keyword arguments of .over() override the decorator's options once."""
    @ps.sweep(calc_dir="a")
    def f(pset):
        return {}

    f.over(ps.plist("x", [1]), calc_dir="b")
    f.over(ps.plist("x", [1]))
    assert len(ps.df_read("a/results.pk")) == 1
    assert len(ps.df_read("b/results.pk")) == 1


def test_simulate_does_not_call_and_leaves_calc_untouched():
    """.simulate() writes calc.simulate only, with result columns missing."""
    calls = []

    @ps.sweep
    def f(pset):
        calls.append(pset)
        return {"y": 1}

    f.over(ps.plist("x", [1]))
    calls.clear()
    before = open("calc/results.pk", "rb").read()
    df = f.simulate(ps.plist("x", [2, 3]))
    assert calls == []
    assert len(df) == 3
    assert df["y"].isna().sum() == 2
    assert open("calc/results.pk", "rb").read() == before
    assert os.listdir("calc.simulate/backup_script")


def test_module_level_sweep_pickles_by_reference():
    """A module-level Sweep pickles as a reference and unpickles to the same object."""
    data = pickle.dumps(workers.decorated_square)
    assert len(data) < 200
    assert pickle.loads(data) is workers.decorated_square


def test_local_sweep_pickling_error_says_move_to_module_level():
    """A Sweep defined in a function cannot be pickled; the error says what to do."""
    @ps.sweep
    def local(pset):
        return {}

    with pytest.raises(ps.SweepPickleError, match="top level of a module"):
        pickle.dumps(local)
    with pytest.raises(ps.SweepPickleError, match="top level of a module"):
        local.over(ps.plist("x", [1]), poolsize=2)
    assert not os.path.exists("calc")


def test_poolsize_with_decorated_function_from_module():
    """A decorated module function runs in a process pool."""
    df = workers.decorated_square.over(ps.plist("x", range(6)), poolsize=2)
    assert sorted(df["y"]) == [x**2 for x in range(6)]
    assert os.getpid() not in set(df["pid"])


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_main_script_sweep_in_pool_with_start_method(method):
    """A decorated function in a script's __main__ runs in spawn/forkserver pools."""
    proc = run_script(f"""
        import multiprocessing, os
        import psweep as ps

        @ps.sweep(calc_dir="calc")
        def f(pset):
            return {{"y": pset["x"] * 10, "pid": os.getpid()}}

        if __name__ == "__main__":
            multiprocessing.set_start_method({method!r})
            df = f.over(ps.plist("x", range(5)), poolsize=2)
            assert sorted(df["y"]) == [0, 10, 20, 30, 40], df
            assert os.getpid() not in set(df["pid"])
            print("ok")
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_main_guarded_sweep_in_pool_is_a_clear_error():
    """A Sweep defined under `if __name__ == "__main__":` raises, telling to move it."""
    proc = run_script("""
        import psweep as ps

        if __name__ == "__main__":
            @ps.sweep(calc_dir="calc")
            def f(pset):
                return {"y": 1}

            try:
                f.over(ps.plist("x", [1, 2]), poolsize=2)
            except ps.SweepPickleError as exc:
                print("error:", exc)
    """)
    assert proc.returncode == 0, proc.stderr
    assert "error:" in proc.stdout and "top level" in proc.stdout
    assert not os.path.exists("calc")


def test_source_of_module_captured_per_run_as_read_at_decoration():
    """Each .over() stores the module source, as read when decorating, in backup_script/<_run_id>.py."""
    proc = run_script("""
        import psweep as ps

        @ps.sweep(calc_dir="calc")
        def f(pset):
            return {"y": 1}

        if __name__ == "__main__":
            with open(__file__, "a") as fd:
                fd.write("# edited while the study runs\\n")
            df = f.over(ps.plist("x", [1]))
            df = f.over(ps.plist("x", [2]))
            print(" ".join(df["_run_id"].unique()))
    """)
    assert proc.returncode == 0, proc.stderr
    run_ids = proc.stdout.split()
    assert len(run_ids) == 2
    original = open("study.py").read().replace("# edited while the study runs\n", "")
    for run_id in run_ids:
        captured = open(f"calc/backup_script/{run_id}.py").read()
        assert captured == original


def test_no_source_file_falls_back_or_warns_never_fails():
    """python -c: the run works; the source is recorded when found, else a warning."""
    code = textwrap.dedent("""
        import warnings, psweep as ps
        ns = {}
        exec("def f(pset):\\n    return {'y': 1}\\n", ns)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            g = ps.sweep(ns["f"])
        df = g.over(ps.plist("x", [1]))
        print(len(df), any("no source found" in str(x.message) for x in w))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1", "True"]


def _exec_under(filename: str, cached_text: str, code: str):
    """Define `f` from `code` compiled as `filename`, while linecache holds `cached_text` for that name.

    This is what Python 3.13 does for ``python -c``: the program's text is
    in linecache as "<string>", the pseudo file name exec'd code has too.
    """
    import linecache

    lines = cached_text.splitlines(keepends=True)
    linecache.cache[filename] = (len(cached_text), None, lines, filename)
    ns: dict = {}
    exec(compile(code, filename, "exec"), ns)
    return ns["f"]


def test_read_source_rejects_other_text_under_the_same_pseudo_file_name():
    """Regression: on Python 3.13, a function exec'd under python -c had
    lines of the -c program recorded as its source."""
    import linecache

    from psweep.provenance import read_source

    name = "<psweep-test-other-text>"
    try:
        f = _exec_under(name, "import os, psweep as ps\nx = 1\n", "def f(pset):\n    return {'y': 1}\n")
        assert inspect.getsource(f) == "import os, psweep as ps\n"  # what inspect makes of it
        with pytest.warns(UserWarning, match="no source found for 'f'"):
            assert read_source(f) is None
    finally:
        linecache.cache.pop(name, None)


def test_read_source_of_function_from_a_cached_cell():
    """A function whose text is in linecache under its pseudo file name (as
    in notebooks) has that text recorded."""
    import linecache

    from psweep.provenance import read_source

    name = "<psweep-test-cell>"
    code = "import math\n\n@staticmethod\ndef f(pset):\n    return {'y': math.pi}\n"
    try:
        f = _exec_under(name, code, code).__func__
        assert read_source(f) == "@staticmethod\ndef f(pset):\n    return {'y': math.pi}\n"
    finally:
        linecache.cache.pop(name, None)


def test_unknown_option_suggests_the_closest_name_everywhere():
    """@ps.sweep(...), @ps.sweep on a function and .over() ask "did you mean 'calc_dir'?"."""
    hint = "'calcdir' \\(did you mean 'calc_dir'\\?\\)"
    with pytest.raises(ps.OptionError, match=hint):
        ps.sweep(calcdir="x")
    with pytest.raises(ps.OptionError, match=hint):
        ps.Sweep(workers.square, {"calcdir": "x"})
    with pytest.raises(ps.OptionError, match=hint):
        workers.decorated_square.over(ps.plist("x", [1]), calcdir="x")
    with pytest.raises(ps.OptionError, match="'skipdups' \\(did you mean 'skip_dups'\\?\\)"):
        workers.decorated_square.copy(skipdups=True)
    assert os.listdir(".") == []


# -- issue 20, item 20: f(params) means f.over(params) --------------------------------


def _params_like_values():
    import itertools

    import pandas as pd

    plist = ps.plist("x", [1, 2])
    return [
        ("list", plist),
        ("tuple", tuple(plist)),
        ("generator", (p for p in plist)),
        ("zip", zip(plist, ps.plist("y", [3, 4]))),
        ("product", itertools.product(plist, ps.plist("y", [3]))),
        ("DataFrame", pd.DataFrame(plist)),
    ]


@pytest.mark.parametrize("kind, value", _params_like_values(), ids=lambda v: v if isinstance(v, str) else "")
def test_calling_a_decorated_function_with_params_names_over_before_the_function_runs(kind, value):
    """f(params) (list/tuple/iterator of dicts, DataFrame): a ParamsTypeError naming .over(); f does not run."""
    calls = []

    @ps.sweep(calc_dir="calc")
    def study(pset):
        calls.append(pset)
        return {"y": pset["x"]}

    with pytest.raises(ps.ParamsTypeError, match=r"study\.over\(") as info:
        study(value)
    assert calls == []
    assert isinstance(info.value, TypeError)
    assert "one pset" in str(info.value)
    assert not os.path.exists("calc")


def test_calling_a_decorated_function_with_one_pset_stays_a_plain_call():
    """f(pset) with a dict, any Mapping, a pandas row or a keyword argument calls the function as it is."""
    import collections

    import pandas as pd

    f = workers.decorated_square
    assert f({"x": 3})["y"] == 9
    assert f(collections.OrderedDict(x=2))["y"] == 4
    assert f(pd.Series({"x": 4}))["y"] == 16
    assert f(pset={"x": 5})["y"] == 25
    with pytest.raises(TypeError, match="argument"):
        f()  # Python's own error for a missing argument stays


def test_params_passed_by_keyword_to_a_decorated_function_names_over_too():
    """f(pset=params) is the same mistake as f(params): a ParamsTypeError naming .over()."""
    with pytest.raises(ps.ParamsTypeError, match=r"decorated_square\.over\(params\)"):
        workers.decorated_square(pset=ps.plist("x", [1, 2]))


def test_over_a_dataframe_says_to_pass_its_rows():
    """f.over(df) (a DataFrame as params) is a ParamsTypeError giving df.to_dict('records'), before any work."""
    import pandas as pd

    with pytest.raises(ps.ParamsTypeError, match=r"params is a DataFrame .*df\.to_dict\('records'\)"):
        workers.decorated_square.over(pd.DataFrame({"x": [1, 2]}))
    assert not os.path.exists("calc")
