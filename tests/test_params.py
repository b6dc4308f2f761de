"""Tests of psweep/params.py: building psets and hashing them."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
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
