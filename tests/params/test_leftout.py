"""Keys the hash leaves out (issue 20, item 5): no pset skipped or counted as a duplicate without a word."""

from __future__ import annotations

import warnings

import pytest

import psweep as ps


def one(pset):
    return {"y": 1}


def _warnings_about_left_out(record) -> list[str]:
    return [str(w.message) for w in record if "leaves out" in str(w.message) or "left out" in str(w.message)]


@pytest.mark.parametrize("key", ["n_", "_seed"])
def test_skip_dups_says_which_psets_it_skips_only_because_of_left_out_keys(key):
    """plist(key, [1, 2]) then [1, 2, 3] with skip_dups: the skipped 3 is counted, the key and the fix named."""
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        ps.run(one, ps.plist(key, [1, 2]))
    with pytest.warns(UserWarning, match="skip_dups") as record:
        df = ps.run(one, ps.plist(key, [1, 2, 3]), skip_dups=True)
    assert len(df) == 2  # the rule stays: the hash leaves the key out
    (message,) = [m for m in _warnings_about_left_out(record) if "skip_dups" in m]
    assert "skipped 1 pset " in message
    assert repr(key) in message and "{" + repr(key) + ": 3}" in message
    assert "rename it (e.g. to " in message and "intended" in message


def test_skip_dups_of_psets_equal_in_their_left_out_keys_too_is_silent():
    """Psets with a seed under '_seed', re-run with the same seeds and skip_dups, are skipped without a word."""
    params = [{"a": 1, "_seed": 11}, {"a": 2, "_seed": 12}]
    ps.run(one, params)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        df = ps.run(one, params + [{"a": 3, "_seed": 13}], skip_dups=True)
    assert len(df) == 3
    assert _warnings_about_left_out(record) == []


def test_int_and_float_left_out_values_count_as_equal():
    """A left-out value read back as a float (a column with gaps) matches the int of the pset: no warning."""
    ps.run(one, [{"a": 1, "_seed": 7}, {"a": 2}])  # _seed column: 7.0, NaN
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ps.run(one, [{"a": 1, "_seed": 7}], skip_dups=True)
    assert _warnings_about_left_out(record) == []


def test_psets_of_one_params_equal_only_by_left_out_keys_are_named_before_the_run():
    """A run of plist("n_", [1, 2, 3]) warns once, before any pset runs, that 3 psets share one hash."""
    ran = []

    def func(pset):
        ran.append(pset["n_"])
        return {"y": 1}

    with pytest.warns(UserWarning, match="leaves out") as record:
        ps.run(func, ps.plist("n_", [1, 2, 3]))
    (message,) = _warnings_about_left_out(record)
    assert message.startswith("psweep: 3 psets of params have the same _pset_hash")
    assert "'n_'" in message and "to 'n'" in message
    assert record[0].filename == __file__  # points at the user's call
    assert ran == [1, 2, 3]


def test_a_study_without_left_out_keys_gets_no_such_warning():
    """Plain parameters, repeated psets with equal left-out keys, and [{}] (one pset, no key) warn nothing."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ps.run(one, ps.plist("x", [1, 2]))
        ps.run(one, [{"x": 1, "_label": "a"}, {"x": 1, "_label": "a"}], skip_dups=False)
        ps.run(one, [{}], skip_dups=False)
    assert _warnings_about_left_out(record) == []


def test_prep_batch_plan_warns_like_run(tmp_path):
    """ps.plist('n_', ...) given to prep_batch is named the same way (it plans like run)."""
    templates = tmp_path / "templates"
    (templates / "calc").mkdir(parents=True)
    (templates / "machines" / "local").mkdir(parents=True)
    (templates / "calc" / "input.txt").write_text("n={{n_}}\n")
    (templates / "machines" / "local" / "jobscript").write_text("#!/bin/sh\n")
    (templates / "machines" / "local" / "info.yaml").write_text("subcmd: sh\n")
    with pytest.warns(UserWarning, match="2 psets of params have the same _pset_hash"):
        ps.prep_batch(ps.plist("n_", [1, 2]), calc_templ_dir=str(templates / "calc"),
                      machine_templ_dir=str(templates / "machines"))


def test_filter_params_unique_names_psets_it_drops_that_differ_in_left_out_keys():
    """filter_params_unique drops {'n_': 2} as a repeat of {'n_': 1}: it says so; exact repeats stay silent."""
    with pytest.warns(UserWarning, match="filter_params_unique dropped 1 pset") as record:
        kept = ps.filter_params_unique([{"a": 1, "n_": 1}, {"a": 1, "n_": 2}, {"a": 2}])
    assert kept == [{"a": 1, "n_": 1}, {"a": 2}]
    assert "'n_'" in str(record[0].message) and "rename it" in str(record[0].message)
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ps.filter_params_unique([{"a": 1, "n_": 1}, {"a": 1.0, "n_": 1.0}]) == [{"a": 1, "n_": 1}]


def test_filter_params_dup_hash_names_dropped_psets_told_apart_only_by_left_out_keys():
    """filter_params_dup_hash drops psets that differ among themselves only in '_seed': it says so."""
    params = [{"a": 1, "_seed": 1}, {"a": 1, "_seed": 2}, {"a": 2, "_seed": 3}]
    with pytest.warns(UserWarning, match="filter_params_dup_hash dropped 2 psets") as record:
        kept = ps.filter_params_dup_hash(params, [ps.pset_hash({"a": 1})])
    assert kept == [{"a": 2, "_seed": 3}]
    assert "'_seed'" in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ps.filter_params_dup_hash(params, [ps.pset_hash({"a": 2})]) == params[:2]


def test_stargrid_dropping_its_repeated_center_stays_silent():
    """stargrid keeps the center once (its label is bookkeeping by design): no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ps.stargrid({"a": 1, "b": 2}, [ps.plist("a", [1, 2]), ps.plist("b", [2, 3])], vary_labels=["a", "b"])
    assert len(out) == 3
