"""Tests of psweep/params.py: building psets and hashing them."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import psweep as ps


def test_plist_and_seq2dicts_make_one_key_psets():
    """plist and its old name seq2dicts give [{name: v}, ...]."""
    assert ps.plist("a", [1, 2]) == [{"a": 1}, {"a": 2}]
    assert ps.seq2dicts("a", (1, 2)) == ps.plist("a", [1, 2])


def test_plist_rejects_non_string_name():
    """A non-str name is a typed error naming the value."""
    with pytest.raises(ps.ParamsTypeError, match="name=1"):
        ps.plist(1, [1])


def test_itr2params_flattens_product_of_zip_as_in_readme():
    """product(zip(x, y), z, c) gives 9 psets with keys x, y, z, c."""
    x = ps.plist("x", [1, 2, 3])
    y = ps.plist("y", ["a", "b", "c"])
    z = ps.plist("z", [10, 20, 30])
    c = ps.plist("c", ["const"])
    params = ps.itr2params(itertools.product(zip(x, y), z, c))
    assert len(params) == 9
    assert all(set(p) == {"x", "y", "z", "c"} for p in params)
    assert params[0] == {"x": 1, "y": "a", "z": 10, "c": "const"}
    assert ps.loops2params(itertools.product(zip(x, y), z, c)) == params


def test_pgrid_is_the_product_of_plists():
    """pgrid(*plists) and pgrid([plists]) both give the full grid."""
    a, b = ps.plist("a", [1, 2, 3]), ps.plist("b", [8, 9])
    grid = ps.pgrid(a, b)
    assert len(grid) == 6
    assert {(p["a"], p["b"]) for p in grid} == set(itertools.product([1, 2, 3], [8, 9]))
    assert ps.pgrid([a, b]) == grid


def test_pgrid_with_same_key_twice_is_a_clear_error():
    """Two plists of the same name in one pset raise ParamsError naming the key."""
    with pytest.raises(ps.ParamsError, match="'a' appears twice"):
        ps.pgrid(ps.plist("a", [1]), ps.plist("a", [2]))


def test_merge_dicts():
    """merge_dicts unions disjoint dicts."""
    assert ps.merge_dicts([{"a": 1}, {"b": 2}]) == {"a": 1, "b": 2}


def test_pset_hash_ignores_order_and_underscore_keys():
    """Key order and bookkeeping keys do not change the hash."""
    h = ps.pset_hash({"a": 1, "b": "x"})
    assert h == ps.pset_hash({"b": "x", "a": 1})
    assert h == ps.pset_hash({"a": 1, "b": "x", "_pset_id": "abc"})
    assert h != ps.pset_hash({"a": 1, "b": "y"})
    assert len(h) == 40


def test_pset_hash_equal_numbers_equal_hashes():
    """1, 1.0 and np.int64(1) hash alike; True, "1" and 1.5 do not."""
    ref = ps.pset_hash({"a": 1})
    assert ps.pset_hash({"a": 1.0}) == ref
    assert ps.pset_hash({"a": np.int64(1)}) == ref
    assert ps.pset_hash({"a": np.float32(1.0)}) == ref
    assert ps.pset_hash({"a": True}) != ref
    assert ps.pset_hash({"a": "1"}) != ref
    assert ps.pset_hash({"a": 1.5}) != ref
    assert ps.pset_hash({"a": float("nan")}) == ps.pset_hash({"a": np.nan})


def test_pset_hash_arrays_by_dtype_shape_bytes():
    """Arrays hash by dtype, shape and content."""
    arr = np.arange(6, dtype=float)
    assert ps.pset_hash({"a": arr}) == ps.pset_hash({"a": arr.copy()})
    assert ps.pset_hash({"a": arr}) != ps.pset_hash({"a": arr.reshape(2, 3)})
    assert ps.pset_hash({"a": arr}) != ps.pset_hash({"a": arr.astype(np.float32)})


def test_pset_hash_stable_across_processes():
    """The hash of a fixed pset is the same in a fresh interpreter."""
    pset = {"a": 1, "b": [1.5, "x", None], "c": {"k": 2}}
    code = (
        "import psweep as ps; "
        "print(ps.pset_hash({'a': 1, 'b': [1.5, 'x', None], 'c': {'k': 2}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == ps.pset_hash(pset)
    # Pinned value: a change of encoding would silently break skip_dups on
    # existing databases.
    assert ps.pset_hash({"a": 1, "b": "x"}) == "7d245039f56a0f6a18160ac0b1e47b3ee74caef5"


def test_pset_hash_unhashable_value_names_the_key():
    """An unsupported value raises ParamsTypeError naming key and type."""
    with pytest.raises(ps.ParamsTypeError, match="key 'f'.*function"):
        ps.pset_hash({"f": lambda: 1})


def test_filter_params_unique_and_dup_hash():
    """Filters drop repeated psets and psets whose hash is given."""
    params = [{"a": 1}, {"a": 1.0}, {"a": 2}]
    assert ps.filter_params_unique(params) == [{"a": 1}, {"a": 2}]
    assert ps.filter_params_dup_hash(params, [ps.pset_hash({"a": 2})]) == [{"a": 1}, {"a": 1.0}]


# ---------------------------------------------------------------------------
# psweep 0.16's API: merge_dicts, pgrid forms, pset_hash keywords
# ---------------------------------------------------------------------------


def test_merge_dicts_later_dicts_win_as_in_0_16():
    """merge_dicts(a, b, ...) and merge_dicts([a, b]) merge left to right; inputs unchanged."""
    a, b, c = {"a": 1}, {"a": 2, "b": 2}, {"a": 3}
    assert ps.merge_dicts(a, b) == {"a": 2, "b": 2}
    assert ps.merge_dicts([a, b, c]) == {"a": 3, "b": 2}
    assert ps.merge_dicts(a) == {"a": 1}
    assert ps.merge_dicts(x for x in (a, b)) == {"a": 2, "b": 2}
    assert a == {"a": 1} and b == {"a": 2, "b": 2}


def test_merge_dicts_allow_dup_keys_false_and_non_dicts_are_errors():
    """allow_dup_keys=False names the shared key; a non-dict entry is a ParamsTypeError."""
    with pytest.raises(ps.ParamsError, match="'a' appears twice"):
        ps.merge_dicts({"a": 1}, {"a": 2}, allow_dup_keys=False)
    assert ps.merge_dicts({"a": 1}, {"b": 2}, allow_dup_keys=False) == {"a": 1, "b": 2}
    with pytest.raises(ps.ParamsTypeError, match="got a int"):
        ps.merge_dicts({"a": 1}, 3)
    with pytest.raises(ps.ParamsTypeError, match="got a str"):
        ps.merge_dicts("ab")


def test_pgrid_of_a_lone_zip_is_a_clear_params_error():
    """pgrid(zip(a, c)) raises ParamsError telling to wrap it, not a raw TypeError."""
    a, c = ps.plist("a", [1, 2]), ps.plist("c", [11, 22])
    with pytest.raises(ps.ParamsError, match=r"pgrid\(\[zip\(a, c\)\]\)"):
        ps.pgrid(zip(a, c))
    acref = [{"a": 1, "c": 11}, {"a": 2, "c": 22}]
    assert ps.pgrid([zip(a, c)]) == acref
    d = ps.plist("d", [5, 6])
    assert ps.pgrid(zip(a, c), d) == ps.itr2params(itertools.product(zip(a, c), d))
    assert ps.pgrid([zip(a, c), d]) == ps.pgrid(zip(a, c), d)


def test_pgrid_accepts_one_plist_a_list_or_a_generator_of_plists():
    """pgrid(a), pgrid([a]) and pgrid(generator of plists) all work; a non-plist is typed."""
    a, b = ps.plist("a", [1, 2]), ps.plist("b", [3])
    assert ps.pgrid(a) == a == ps.pgrid([a])
    assert ps.pgrid(p for p in (a, b)) == ps.pgrid(a, b)
    with pytest.raises(ps.ParamsTypeError, match="argument #1 is a int"):
        ps.pgrid(a, 5)
    for bad in ((a, a), (ps.pgrid(a, b), ps.pgrid(b))):
        with pytest.raises(ps.ParamsError, match="appears twice"):
            ps.pgrid(*bad)


def test_pset_hash_skips_postfix_keys_by_default():
    """Keys ending in _ are results and not hashed; skip_*_cols=False hash them."""
    base = {"a": 1, "b": 2}
    full = {"a": 1, "b": 2, "_c": 3, "d_": 4}
    assert ps.pset_hash(full) == ps.pset_hash(base)
    assert ps.pset_hash(full, skip_prefix_cols=False) == ps.pset_hash(
        {"a": 1, "b": 2, "_c": 3}, skip_prefix_cols=False
    )
    assert ps.pset_hash(full, skip_prefix_cols=False) != ps.pset_hash(base)
    assert ps.pset_hash(full, skip_postfix_cols=False) == ps.pset_hash(
        {"a": 1, "b": 2, "d_": 4}, skip_postfix_cols=False
    )
    assert ps.pset_hash(full, skip_postfix_cols=False) != ps.pset_hash(base)
    assert ps.pset_hash({"_a": 1, "b_": 2}) == ps.pset_hash({})


def test_pset_hash_method_and_raise_error():
    """method= picks a hashlib algorithm; a bad one is ParamsError; raise_error=False gives NaN."""
    assert len(ps.pset_hash({"a": 1}, method="md5")) == 32
    assert len(ps.pset_hash({"a": 1}, method="sha256")) == 64
    assert ps.pset_hash({"a": 1}, method=ps.PSET_HASH_ALG) == ps.pset_hash({"a": 1})
    with pytest.raises(ps.ParamsError, match="method='nope'"):
        ps.pset_hash({"a": 1}, method="nope")
    assert np.isnan(ps.pset_hash({"f": lambda: 1}, raise_error=False))
    with pytest.raises(ps.ParamsTypeError, match="not a dict"):
        ps.pset_hash([("a", 1)])


# ---------------------------------------------------------------------------
# item 2: hashing what 0.16 hashes
# ---------------------------------------------------------------------------

HASH_MODULE = '''
import numpy as np
import pandas as pd


class Point:
    def __init__(self, x):
        self.x = x


class Empty:
    pass


def model(x):
    return 3 * x


PSET = {
    "f": np.sin,
    "g": model,
    "cls": Point,
    "obj": Point(2.5),
    "empty": Empty(),
    "s": {"alpha", "beta", "gamma", "delta", 1, 2.5},
    "z": complex(1.0, 3.0),
    "m": [None, float("nan")],
}
'''


@pytest.fixture
def hashmod(tmp_path, monkeypatch):
    """A real module file (hashmod.py in tmp_path) holding functions, classes and objects."""
    import importlib

    (tmp_path / "hashmod.py").write_text(HASH_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("hashmod", None)
    yield importlib.import_module("hashmod")
    sys.modules.pop("hashmod", None)


def test_functions_classes_instances_sets_complex_hash_stably_across_processes(tmp_path, hashmod):
    """np.sin, module functions, classes, instances, sets and complex hash alike in fresh
    interpreters with different PYTHONHASHSEEDs (set order varies there)."""
    mod = hashmod
    expected = ps.pset_hash(mod.PSET)
    code = "import hashmod, psweep as ps; print(ps.pset_hash(hashmod.PSET))"
    for seed in ("0", "12345"):  # this process has a random seed of its own
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=60, check=True,
        )
        assert out.stdout.strip() == expected


def test_hash_identity_of_functions_classes_and_instances(hashmod):
    """Functions/classes by module+qualname; instances by class and state."""
    mod = hashmod

    def h(value):
        return ps.pset_hash({"v": value})

    assert h(np.sin) == h(np.sin) != h(np.cos)
    assert h(mod.model) != h(mod.Point) != h(mod.Empty)
    assert h(mod.Point(2.5)) == h(mod.Point(2.5)) != h(mod.Point(3.0))
    assert h(mod.Empty()) == h(mod.Empty()) != h(mod.Point(2.5))
    assert h(mod.Point) != h(mod.Point(2.5))
    assert h(ps.Sweep) != h(ps.PsweepError)


def test_sets_complex_and_missing_values_hash_as_documented():
    """Sets are order-free and differ from lists; 2+0j is 2; None/NaN/NA/NaT are a missing key."""
    def h(**pset):
        return ps.pset_hash(pset)

    assert h(v={3, 1, 2}) == h(v={1, 2, 3}) == h(v=frozenset([2, 3, 1]))
    assert h(v={1, 2, 3}) != h(v=[1, 2, 3])
    assert h(v=complex(2, 0)) == h(v=2)
    assert h(v=1 + 2j) != h(v=1 - 2j) != h(v=1)
    assert h(v=np.complex128(1 + 2j)) == h(v=1 + 2j)
    missing = {h(a=1, v=x) for x in (None, np.nan, pd.NA, pd.NaT, np.float32("nan"))}
    assert missing == {h(a=1)}
    assert h(v=[None, 1]) == h(v=[pd.NA, 1]) != h(v=[1])


def test_values_without_stable_hash_name_the_key_and_the_fix():
    """Lambdas, local classes and unpicklable objects raise PsweepHashError naming key and fix."""
    import threading

    class Local:
        pass

    cases = [(lambda: 1, "module level"), (Local, "module level"), (threading.Lock(), "cannot be pickled")]
    for value, why in cases:
        with pytest.raises(ps.PsweepHashError, match=f"key 'bad'.*{why}.*starting with '_'") as info:
            ps.pset_hash({"a": 1, "bad": value})
        assert isinstance(info.value, TypeError) and isinstance(info.value, ps.ParamsError)
    assert ps.pset_hash({"a": 1, "_bad": threading.Lock()}) == ps.pset_hash({"a": 1})


def test_run_stores_the_hash_and_skip_dups_recognises_0_16_values(tmp_path, hashmod):
    """run() hashes np.sin, classes, instances, sets, complex, pd.NA and result_ keys as
    pset_hash does, so a second run with skip_dups=True runs nothing."""
    mod = hashmod
    params = ps.plist("v", [np.sin, mod.Point, mod.Point(1.0), {1, 2}, 1 + 2j, pd.NA, "x"])
    params = [dict(p, w_=i) for i, p in enumerate(params)]
    df = ps.run(lambda pset: {"y": 1}, params, calc_dir=str(tmp_path / "calc"))
    assert df["_pset_hash"].tolist() == [ps.pset_hash(p) for p in params]
    assert ps.pset_hash(params[0]) == ps.pset_hash({"v": np.sin})
    again = ps.run(lambda pset: {"y": 2}, params, calc_dir=str(tmp_path / "calc"), skip_dups=True)
    assert len(again) == len(params)
    assert ps.df_read(str(tmp_path / "calc" / "results.pk"))["y"].tolist() == [1] * len(params)


def test_plan_reports_the_pset_of_an_unhashable_value():
    """run() refuses a lambda parameter before any work, naming pset and key."""
    with pytest.raises(ps.PsweepHashError, match="pset #1: .*key 'f'"):
        ps.run(lambda p: {}, [{"f": 1}, {"f": lambda: 2}], save=False)


# -- issue 20, item 20: values that are not a sequence of values ---------------------------


@pytest.mark.parametrize(
    "seq, fix",
    [
        (5, "ps.plist('a', [5])"),
        (2.5, "ps.plist('a', [2.5])"),
        (None, "ps.plist('a', [None])"),
        ("abc", "ps.plist('a', ['abc'])"),
        (b"ab", "ps.plist('a', [b'ab'])"),
        ({"k": 1}, "list(d.values())"),
        (np.array(3), "ps.plist('a', [3])"),
    ],
    ids=["int", "float", "None", "str", "bytes", "dict", "0-d array"],
)
@pytest.mark.parametrize("helper", ["plist", "seq2dicts"])
def test_plist_of_a_single_value_or_a_string_is_a_params_type_error_with_the_fix(helper, seq, fix):
    """plist("a", 5) and plist("name", "abc") (three psets of characters) are ParamsTypeErrors giving the fix."""
    with pytest.raises(ps.ParamsTypeError, match="not a sequence of values") as info:
        getattr(ps, helper)("a", seq)
    assert fix in str(info.value)
    assert isinstance(info.value, TypeError)


def test_plist_takes_any_iterable_of_values():
    """Lists, tuples, ranges, sets, generators, numpy arrays and pandas Series are values."""
    expected = [{"a": 1}, {"a": 2}]
    for seq in ([1, 2], (1, 2), range(1, 3), (v for v in [1, 2]), np.array([1, 2]), pd.Series([1, 2])):
        assert ps.plist("a", seq) == expected
    assert ps.plist("a", {1}) == [{"a": 1}]
    assert ps.plist("s", ["abc"]) == [{"s": "abc"}]


@pytest.mark.parametrize("bad", [[1, 2], ("x", "y"), [[1], [2]]], ids=["ints", "strs", "lists"])
def test_pgrid_argument_of_bare_values_names_plist(bad):
    """pgrid(plist, [1, 2]) (values, not psets) is a ParamsTypeError that points at ps.plist."""
    with pytest.raises(ps.ParamsTypeError, match=r"pgrid: argument #1 holds .* not psets.*ps\.plist\('name', "):
        ps.pgrid(ps.plist("a", [1]), bad)
