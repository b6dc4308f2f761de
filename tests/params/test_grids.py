"""Tests of psweep/grids.py: star scans, spaced values and seeded sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest

import psweep as ps
from psweep import intspace, logspace, sample_lhs, sample_random, stargrid

CONST = {"a": 1, "b": 77, "c": 11}
A = ps.plist("a", [1, 2, 3])
B = ps.plist("b", [77, 88])
C = ps.plist("c", [11, 22, 33])


# ---------------------------------------------------------------------------
# stargrid
# ---------------------------------------------------------------------------


def test_stargrid_scans_one_parameter_at_a_time_and_drops_repeated_center():
    """Each scan overrides const; the center from scan b is dropped as a duplicate."""
    assert stargrid(CONST, [A, B]) == [
        {"a": 1, "b": 77, "c": 11},
        {"a": 2, "b": 77, "c": 11},
        {"a": 3, "b": 77, "c": 11},
        {"a": 1, "b": 88, "c": 11},
    ]


def test_stargrid_skip_dups_false_keeps_center_once_per_scan():
    """Without skip_dups every scan contributes all of its psets."""
    params = stargrid(CONST, [A, B], skip_dups=False)
    assert len(params) == 5
    assert params.count({"a": 1, "b": 77, "c": 11}) == 2


def test_stargrid_labels_mark_scans_and_center_keeps_first_label():
    """vary_labels go under _vary; the shared center carries the first scan's label."""
    params = stargrid(CONST, [A, B], vary_labels=["a", "b"])
    assert [p["_vary"] for p in params] == ["a", "a", "a", "b"]
    assert params[0] == {"a": 1, "b": 77, "c": 11, "_vary": "a"}
    assert list(params[0]) == ["a", "b", "c", "_vary"]


def test_stargrid_labels_do_not_change_hashes():
    """Labelled and unlabelled stars give the same pset hashes, in the same order."""
    plain = stargrid(CONST, [A, B])
    labelled = stargrid(CONST, [A, B], vary_labels=["a", "b"], vary_label_col="_scan")
    assert [ps.pset_hash(p) for p in labelled] == [ps.pset_hash(p) for p in plain]
    assert all("_scan" in p for p in labelled)


def test_stargrid_scan_of_zipped_parameters_varies_them_together():
    """A multi-key plist (itr2params of zip) moves a and c jointly."""
    params = stargrid(CONST, [ps.itr2params(zip(A, C)), B], vary_labels=["a+c", "b"])
    assert params == [
        {"a": 1, "b": 77, "c": 11, "_vary": "a+c"},
        {"a": 2, "b": 77, "c": 22, "_vary": "a+c"},
        {"a": 3, "b": 77, "c": 33, "_vary": "a+c"},
        {"a": 1, "b": 88, "c": 11, "_vary": "b"},
    ]


def test_stargrid_allows_scan_of_parameter_absent_from_const():
    """A scan may add a key that const lacks; only that scan's psets have it."""
    params = stargrid({"a": 1}, [ps.plist("a", [1, 2]), ps.plist("d", [5])])
    assert params == [{"a": 1}, {"a": 2}, {"a": 1, "d": 5}]


def test_stargrid_single_string_label_labels_a_single_scan():
    """vary_labels="a" is one label (not one per character) for a one-scan star."""
    assert stargrid(CONST, [B], vary_labels="b") == [
        {"a": 1, "b": 77, "c": 11, "_vary": "b"},
        {"a": 1, "b": 88, "c": 11, "_vary": "b"},
    ]


def test_stargrid_does_not_mutate_inputs_and_accepts_empty_vary():
    """const and plists stay untouched; no scans give no psets."""
    const = dict(CONST)
    scan = ps.plist("a", [5])
    stargrid(const, [scan], vary_labels=["a"])
    assert const == CONST
    assert scan == [{"a": 5}]
    assert stargrid(const, []) == []


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"const": [1], "vary": [A]}, ps.ParamsTypeError, "const is a list"),
        ({"const": CONST, "vary": A[0]}, ps.ParamsTypeError, "vary is a dict"),
        ({"const": CONST, "vary": A}, ps.ParamsTypeError, r"vary\[0\] is a dict"),
        (
            {"const": CONST, "vary": [list(zip(A, C))]},
            ps.ParamsTypeError,
            r"vary\[0\]\[0\] is a tuple.*itr2params",
        ),
        (
            {"const": CONST, "vary": [A, B], "vary_labels": ["a"]},
            ps.ParamsError,
            "one label for each of the 2 scans",
        ),
        (
            {"const": CONST, "vary": [A, B], "vary_labels": "ab"},
            ps.ParamsError,
            "vary_labels='ab'",
        ),
        (
            {"const": CONST, "vary": [A], "vary_labels": ["a"], "vary_label_col": 3},
            ps.ParamsTypeError,
            "vary_label_col=3 is not a column name",
        ),
        (
            {"const": {**CONST, "_vary": 0}, "vary": [A], "vary_labels": ["a"]},
            ps.ParamsError,
            "already has the label column '_vary'",
        ),
    ],
)
def test_stargrid_errors_name_the_problem(kwargs, exc, match):
    """Each malformed argument raises a psweep error that names value and fix."""
    with pytest.raises(exc, match=match):
        stargrid(**kwargs)


def test_stargrid_propagates_unhashable_values_when_deduplicating():
    """skip_dups needs pset_hash; a value with no stable hash raises, skip_dups=False passes."""
    const = {"a": 1, "obj": lambda: 1}
    with pytest.raises(ps.PsweepHashError, match="'obj'"):
        stargrid(const, [ps.plist("a", [1, 2])])
    assert len(stargrid(const, [ps.plist("a", [1, 2])], skip_dups=False)) == 2


def test_stargrid_label_col_without_underscore_is_a_parameter():
    """vary_label_col="study" (as 0.16 allows) labels psets; each scan keeps its center."""
    params = stargrid(CONST, [A, B], vary_labels=["aa", "bb"], vary_label_col="study")
    assert [p["study"] for p in params] == ["aa"] * 3 + ["bb"] * 2
    assert all("_vary" not in p for p in params)
    centers = [p for p in params if (p["a"], p["b"]) == (1, 77)]
    assert [c["study"] for c in centers] == ["aa", "bb"]
    assert len({ps.pset_hash(p) for p in params}) == 5


def test_stargrid_hashes_functions_and_objects_to_skip_the_center():
    """Scans over np.sin/np.cos/a class/an instance deduplicate by hash (0.16 allows them)."""
    funcs = ps.plist("f", [np.sin, np.cos, ps.Sweep, ps.PsweepError("x")])
    params = stargrid({"a": 1, "f": np.sin}, [ps.plist("a", [1, 2]), funcs])
    assert len(params) == 5
    assert params[2:] == [{"a": 1, "f": f["f"]} for f in funcs[1:]]


# ---------------------------------------------------------------------------
# intspace, logspace
# ---------------------------------------------------------------------------


def test_intspace_gives_unique_sorted_int_array_with_endpoints():
    """Values are a numpy int64 array of distinct ints from start to stop, ascending."""
    values = intspace(1, 1000, 30)
    assert isinstance(values, np.ndarray) and values.dtype == np.int64
    assert values[0] == 1 and values[-1] == 1000
    assert len(values) == 30
    assert values.tolist() == sorted(set(values.tolist()))


def test_intspace_is_an_array_as_in_0_16():
    """Arithmetic is elementwise (0.16: intspace(0, 4, 3) * 2 == [0, 4, 8]); dtype= picks the type."""
    assert (intspace(0, 4, 3) * 2).tolist() == [0, 4, 8]
    assert intspace(0, 4, 5).tolist() == [0, 1, 2, 3, 4]
    assert intspace(0, 5, 5).tolist() == [0, 1, 2, 4, 5]
    assert intspace(0, 10, 3, dtype=np.int32).dtype == np.int32
    assert ps.plist("n", intspace(1, 3, 3)) == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_intspace_drops_duplicates_when_range_is_narrow():
    """More points than integers in the range collapse to each integer once."""
    assert intspace(0, 3, 20).tolist() == [0, 1, 2, 3]
    assert intspace(5, 5, 3).tolist() == [5]


def test_intspace_endpoint_false_and_descending_bounds():
    """endpoint=False excludes stop; stop < start still returns ascending ints."""
    assert intspace(0, 10, 5, endpoint=False).tolist() == [0, 2, 4, 6, 8]
    assert intspace(10, 0, 3).tolist() == [0, 5, 10]


def test_logspace_has_exact_endpoints_and_equal_ratios():
    """offset=0 is a geometric sequence from start to stop, ends exact."""
    values = logspace(2, 2000, 7)
    assert values[0] == 2.0 and values[-1] == 2000.0
    ratios = np.array(values[1:]) / np.array(values[:-1])
    assert np.allclose(ratios, 10 ** 0.5)
    assert isinstance(values, np.ndarray) and values.dtype == float
    assert logspace(1, 1000, 4).tolist() == [1.0, 10.0, 100.0, 1000.0]


@pytest.mark.parametrize(("log_func", "base"), [(np.log10, 10), (np.log, np.e), (np.log2, 2)])
def test_logspace_base_and_log_func_match_numpy(log_func, base):
    """With matching base/log_func the points are numpy.logspace of the logs of the bounds."""
    ref = np.logspace(log_func(0.3), log_func(1.5), num=20, base=base)
    np.testing.assert_allclose(logspace(0.3, 1.5, num=20, base=base, log_func=log_func), ref)
    np.testing.assert_allclose(logspace(0.3, 1.5), np.logspace(np.log10(0.3), np.log10(1.5)))


def test_logspace_mismatched_base_and_log_func_is_an_error():
    """log_func(base) != 1 raises ParamsError naming both."""
    with pytest.raises(ps.ParamsError, match="does not match base=2.0"):
        logspace(1, 10, base=2, log_func=np.log10)


def test_logspace_offset_allows_zero_start_and_evens_out_spacing():
    """With an offset start may be 0; larger offsets give more even steps."""
    values = logspace(0, 10, 11, offset=1)
    assert values[0] == 0.0 and values[-1] == 10.0
    assert np.all(np.diff(values) > 0)

    def step_ratio(offset):
        steps = np.diff(logspace(0, 10, 11, offset=offset))
        return steps[-1] / steps[0]

    assert step_ratio(0.1) > step_ratio(1) > step_ratio(100) > 1
    assert np.allclose(logspace(0, 10, 11, offset=1e9), np.linspace(0, 10, 11), atol=1e-6)


def test_logspace_decreasing_endpoint_false_and_single_value():
    """stop < start gives a decreasing list; endpoint=False omits stop; num=1 is [start]."""
    values = logspace(100, 1, 3)
    assert values.tolist() == pytest.approx([100.0, 10.0, 1.0])
    assert values[0] == 100.0 and values[-1] == 1.0
    assert logspace(1, 100, 2, endpoint=False).tolist() == pytest.approx([1.0, 10.0])
    assert logspace(3, 30, 1).tolist() == [3.0]


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: intspace(0, 10, 0), ps.ParamsError, "num=0"),
        (lambda: intspace(0, 10, 2.5), ps.ParamsTypeError, "num=2.5 is a float"),
        (lambda: intspace("0", 10), ps.ParamsTypeError, "intspace: start is '0'"),
        (lambda: intspace(0, math.inf), ps.ParamsError, "stop is inf"),
        (lambda: logspace(0, 10), ps.ParamsError, r"start \+ offset = 0.0.*offset="),
        (lambda: logspace(1, 10, offset=-2), ps.ParamsError, "must both be > 0"),
        (lambda: logspace(1, 10, num=True), ps.ParamsTypeError, "num=True is a bool"),
        (lambda: logspace(1, 10, offset=None), ps.ParamsTypeError, "offset is None"),
    ],
)
def test_spacing_errors_name_the_argument(call, exc, match):
    """Bad bounds, num or offset raise psweep errors naming the argument."""
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------------------
# sample_random, sample_lhs
# ---------------------------------------------------------------------------

RANGES = {"x": (-1.0, 1.0), "y": (10, 20), "z": (1e-3, 1e3)}


@pytest.mark.parametrize("sampler", [sample_random, sample_lhs])
def test_sampling_is_reproducible_with_seed(sampler):
    """Same seed gives identical psets; another seed gives different ones."""
    first = sampler(RANGES, 20, seed=42, log=["z"])
    assert first == sampler(RANGES, 20, seed=42, log=["z"])
    assert first != sampler(RANGES, 20, seed=43, log=["z"])
    assert sampler(RANGES, 3, seed=np.random.default_rng(7)) == sampler(RANGES, 3, seed=7)


@pytest.mark.parametrize("sampler", [sample_random, sample_lhs])
def test_sampling_stays_in_bounds_with_python_floats(sampler):
    """Every value is a builtin float in [lo, hi); keys follow ranges' order."""
    params = sampler(RANGES, 200, seed=0, log=["z"])
    assert len(params) == 200
    for pset in params:
        assert list(pset) == ["x", "y", "z"]
        for name, (lo, hi) in RANGES.items():
            assert type(pset[name]) is float
            assert lo <= pset[name] < hi


@pytest.mark.parametrize("sampler", [sample_random, sample_lhs])
def test_log_sampling_spreads_over_decades(sampler):
    """A log range over 6 decades puts about half the values below its geometric middle."""
    values = np.array([p["z"] for p in sampler({"z": (1e-3, 1e3)}, 2000, seed=1, log="z")])
    assert values.min() >= 1e-3 and values.max() < 1e3
    below = np.mean(values < 1.0)
    assert 0.45 < below < 0.55  # a linear draw would put ~0.1% below 1.0


def test_lhs_puts_exactly_one_point_in_each_stratum():
    """Per dimension, the n values fall one per stratum (log strata for log names)."""
    n = 50
    params = sample_lhs(RANGES, n, seed=3, log=["z"])
    for name, (lo, hi) in RANGES.items():
        values = np.array([p[name] for p in params])
        if name == "z":
            unit = (np.log(values) - np.log(lo)) / (np.log(hi) - np.log(lo))
        else:
            unit = (values - lo) / (hi - lo)
        strata = np.floor(unit * n).astype(int)
        assert sorted(strata) == list(range(n))


def test_lhs_strata_are_permuted_independently_per_dimension():
    """Strata orders differ between dimensions (no diagonal pattern)."""
    params = sample_lhs({"x": (0, 1), "y": (0, 1)}, 30, seed=5)
    x_order = np.argsort([p["x"] for p in params])
    y_order = np.argsort([p["y"] for p in params])
    assert not np.array_equal(x_order, y_order)


def test_single_sample_is_allowed():
    """n=1 gives one pset (one stratum covering the range for LHS)."""
    assert len(sample_random({"a": (0, 1)}, 1, seed=0)) == 1
    (pset,) = sample_lhs({"a": (0, 1)}, 1, seed=0)
    assert 0 <= pset["a"] < 1


@pytest.mark.parametrize("sampler", [sample_random, sample_lhs])
@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"ranges": {}}, ps.ParamsError, "ranges is empty"),
        ({"ranges": [("a", (0, 1))]}, ps.ParamsTypeError, r"ranges is a list \(.*\), not a dict"),
        ({"ranges": {"a": (1, 1)}}, ps.ParamsError, r"ranges\['a'\] = \(1, 1\) has lo >= hi"),
        ({"ranges": {"a": (2, 1)}}, ps.ParamsError, "lo >= hi"),
        ({"ranges": {"a": ("0", 1)}}, ps.ParamsTypeError, r"ranges\['a'\]\[0\] \(lo\) is '0'"),
        ({"ranges": {"a": (0, math.nan)}}, ps.ParamsError, r"\(hi\) is nan; it must be finite"),
        ({"ranges": {"a": (0, 1, 2)}}, ps.ParamsTypeError, "is not a .lo, hi. pair"),
        ({"ranges": {"a": 1}}, ps.ParamsTypeError, "is not a .lo, hi. pair"),
        ({"ranges": {1: (0, 1)}}, ps.ParamsTypeError, "names must be strings"),
        ({"n": 0}, ps.ParamsError, "n=0 asks for no values"),
        ({"n": 2.0}, ps.ParamsTypeError, "n=2.0 is a float"),
        ({"log": ["b"]}, ps.ParamsError, r"log names \['b'\] are not keys"),
        ({"ranges": {"a": (0, 1)}, "log": ["a"]}, ps.ParamsError, r"'a'.*is in log.*lo > 0"),
        ({"seed": -1}, ps.ParamsTypeError, "seed=-1 cannot seed"),
        ({"seed": "abc"}, ps.ParamsTypeError, "seed='abc' cannot seed"),
    ],
)
def test_sampling_errors_name_key_and_fix(sampler, kwargs, exc, match):
    """Bad ranges, n, log names or seeds raise psweep errors naming the key."""
    call = {"ranges": {"a": (0.0, 1.0)}, "n": 3, **kwargs}
    with pytest.raises(exc, match=match):
        sampler(**call)


def test_samples_combine_with_constants_via_pgrid():
    """Sampled psets are plain dicts, so pgrid can add constant parameters."""
    params = ps.pgrid(sample_lhs({"a": (0, 1)}, 4, seed=0), ps.plist("c", ["fixed"]))
    assert len(params) == 4
    assert all(p["c"] == "fixed" for p in params)
    assert len(ps.filter_params_unique(params)) == 4
