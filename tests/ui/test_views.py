"""Fast tests of the views' data and the app, called directly (no browser)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from ui_helpers import tree_digest

import psweep as ps
from psweep.store import _dbfile as dbfile
from psweep.ui import Study
from psweep.ui._pages import page_for
from psweep.ui._summaries import coverage, failure_groups
from psweep.ui._tables import TablePager, apply_filter

plotly_utils = pytest.importorskip("plotly.utils", reason="the ui tests need the ui extra")


def page_text(study: Study, path: str) -> str:
    """The whole component tree of a view as JSON text."""
    return json.dumps(page_for(study, path), cls=plotly_utils.PlotlyJSONEncoder)


def test_study_finds_parameters_results_and_varied(example_calc: Path) -> None:
    """Parameters come from _pset_hash, results are the rest, constant parameters are not varied."""
    study = Study(str(example_calc))
    assert study.params() == ["rate", "dt", "noise", "seed"]
    assert study.results() == ["x_end_", "error_", "steps_"]
    assert study.varied() == ["rate", "dt", "noise", "seed"]
    assert len(study.df) == 195 and len(study.failed()) == 15


def test_reading_a_study_changes_no_byte_of_it(example_calc: Path, tmp_path: Path) -> None:
    """Study, every view and a report written elsewhere leave the calc dir byte-identical, no lock file made."""
    calc = tmp_path / "calc"
    shutil.copytree(example_calc, calc, symlinks=True)
    (calc / "results.pk.lock").unlink()
    before = tree_digest(calc)
    study = Study(str(calc))
    pset_id = study.failed()["_pset_id"].iloc[0]
    for path in ("/runs", "/results", "/failures", "/coverage", f"/pset/{pset_id}"):
        page_for(study, path)
    ps.runs(str(calc))
    ps.report(str(calc), str(tmp_path / "r.html"))
    assert tree_digest(calc) == before


def test_study_rereads_only_when_files_change(tmp_path: Path) -> None:
    """refresh() is a no-op while the files are unchanged and picks up the rows of a new run."""
    calc = tmp_path / "calc"
    ps.run(lambda p: {"y_": p["a"]}, ps.plist("a", [1, 2]), calc_dir=str(calc))
    study = Study(str(calc))
    assert not study.refresh()
    ps.run(lambda p: {"y_": p["a"]}, ps.plist("a", [3]), calc_dir=str(calc))
    assert study.refresh() and len(study.df) == 3


def test_a_damaged_or_missing_database_is_an_error_page(tmp_path: Path) -> None:
    """A damaged database gives Study.error and a page saying so; a missing one as well."""
    calc = tmp_path / "calc"
    calc.mkdir()
    (calc / "results.pk").write_bytes(b"not a pickle")
    study = Study(str(calc))
    assert "damaged" in study.error or "cannot" in study.error
    assert "The database cannot be read" in page_text(study, "/results")
    missing = Study(str(tmp_path / "nothing"))
    assert "no psweep database" in missing.error
    rep = ps.report(str(calc), str(tmp_path / "r.html"))
    assert "class='error'" in rep.html


def test_filter_sort_and_page_on_the_server() -> None:
    """Filter terms of the DataTable syntax combine; sort and paging give one page."""
    df = pd.DataFrame({"a": [5, 1, 4, 2, 3], "s": ["x", "y", "xz", "z", "x"], "f": [1.5, 2, 3, 4, 5]})
    assert apply_filter(df, "{a} >= 3").a.tolist() == [5, 4, 3]
    assert apply_filter(df, '{s} contains "x" && {a} < 5').a.tolist() == [4, 3]
    assert apply_filter(df, "{s} = z").a.tolist() == [2]
    assert apply_filter(df, "{nope} > 1").equals(df)
    pager = TablePager(["a", "s"])
    rows, pages = pager.page(df, 0, "{a} > 1", [{"column_id": "a", "direction": "desc"}], 1, 2)
    assert rows == [{"a": 3, "s": "x"}, {"a": 2, "s": "z"}] and pages == 2
    mixed = pd.DataFrame({"s": ["b", None, "a", "b"], "f": [1.0, 2.0, float("nan"), 0.5]})
    order = [{"column_id": "s", "direction": "desc"}, {"column_id": "f", "direction": "asc"}]
    rows, _ = TablePager(["s", "f"]).page(mixed, 0, "", order, 0, 10)
    assert rows == [{"s": "b", "f": 0.5}, {"s": "b", "f": 1.0}, {"s": "a", "f": None}, {"s": None, "f": 2.0}]


def test_failures_group_by_error_with_shared_values(example_calc: Path) -> None:
    """The example's failures form two groups by last traceback line, with the values they share."""
    study = Study(str(example_calc))
    groups = {g["type"]: g for g in failure_groups(study.failed(), study.params())}
    assert sorted((k, g["count"]) for k, g in groups.items()) == [("FloatingPointError", 6), ("ValueError", 9)]
    assert groups["ValueError"]["shared"] == {"rate": 8.0, "dt": 0.4}
    assert groups["FloatingPointError"]["shared"] == {"noise": 0.6}
    assert groups["ValueError"]["error"] == "ValueError: Euler is unstable for rate*dt=3.2 > 2"


def test_coverage_marks_done_failed_missing(example_calc: Path) -> None:
    """The grid of the example: dt=0.01 was run for noise 0 only, the rest is missing."""
    study = Study(str(example_calc))
    cov = coverage(study.df, study.varied())
    table = cov["table"]
    assert len(table) == 5 * 5 * 3 * 3
    missing = table[table.status == "missing"]
    assert set(missing["dt"]) == {0.01} and set(missing["noise"]) == {0.3, 0.6}
    assert cov["counts"] == {"done": 180 + 15 - 15, "failed": 15, "missing": 30}


def test_files_route_serves_only_below_the_calc_dir(example_calc: Path, tmp_path: Path) -> None:
    """A pset's file is served; .., absolute, percent-encoded .. and a symlink out answer 404."""
    from psweep.ui._app import create_app

    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    study = Study(str(example_calc))
    pset_id = study.df["_pset_id"].iloc[0]
    link = example_calc / pset_id / "out.txt"
    link.symlink_to(secret)
    try:
        client = create_app(study).server.test_client()
        ok = client.get(f"/files/{pset_id}/trajectory.txt")
        assert ok.status_code == 200 and ok.data.startswith(b"1.000000")
        for url in (f"/files/{pset_id}/out.txt", "/files/../secret.txt", f"/files/{secret}",
                    f"/files//{secret}", "/files/%2e%2e/secret.txt", f"/files/{pset_id}/%2e%2e/%2e%2e/secret.txt",
                    f"/files/%2F{str(secret)[1:]}"):
            answer = client.get(url)
            assert answer.status_code in (403, 404), url
            assert b"SECRET" not in answer.data, url
    finally:
        link.unlink()


def test_pset_page_shows_columns_traceback_files_and_provenance(example_calc: Path) -> None:
    """A failed pset's page holds its traceback, its files and its run's record and source."""
    study = Study(str(example_calc))
    failed = study.failed()
    pset_id = failed[failed["_exc_txt"].str.contains("ValueError")]["_pset_id"].iloc[0]
    text = page_text(study, f"/pset/{pset_id}")
    assert "ValueError: Euler is unstable" in text
    assert "start_utc" in text and "def relax(pset)" in text
    ok_id = study.df[~study.df._failed]["_pset_id"].iloc[0]
    text = page_text(study, f"/pset/{ok_id}")
    assert f"/files/{ok_id}/trajectory.svg" in text and "trajectory.txt" in text


def test_report_is_one_file_that_fetches_nothing(example_calc: Path, tmp_path: Path) -> None:
    """The report inlines plotly.js once and names no http(s) script, style or image."""
    rep = ps.report(str(example_calc), str(tmp_path / "report.html"))
    text = (tmp_path / "report.html").read_text()
    assert text == rep.html and rep._repr_html_() in text
    assert text.count("Plotly.newPlot") >= 3
    assert text.count("/*! For license information please see plotly") <= 1
    markup = re.sub(r"(?s)<script[^>]*>.*?</script>", "<script></script>", text)
    for attr in ("src=\"http", "src='http", "href=\"http", "href='http", "@import", "url(http"):
        assert attr not in markup, attr
    assert re.findall(r"<script[^>]*\bsrc=", text) == []
    assert "Euler is unstable" in text and "30 missing" in text


def test_cli_report_and_its_default_path(example_calc: Path, tmp_path: Path) -> None:
    """psweep report -o writes the file and says so; exit code 0."""
    out = tmp_path / "r.html"
    proc = subprocess.run([sys.executable, "-m", "psweep", "report", str(example_calc), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"psweep report: wrote {out}" and out.stat().st_size > 1_000_000


_BLOCK_DASH = (
    "import sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in ('dash', 'plotly'):\n"
    "            raise ImportError(f'blocked {name}')\n"
    "sys.meta_path.insert(0, Block())\n"
    "from psweep.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.mark.parametrize("command", ["ui", "report"])
def test_without_the_extra_the_command_names_the_install(command: str, tmp_path: Path) -> None:
    """With dash and plotly hidden, psweep ui/report exit 2 with one line naming pip install "psweep[ui]"."""
    calc = tmp_path / "calc"
    ps.run(lambda p: {"y_": p["a"]}, ps.plist("a", [1]), calc_dir=str(calc))
    proc = subprocess.run([sys.executable, "-c", _BLOCK_DASH, command, str(calc)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and 'pip install "psweep[ui]"' in lines[0], proc.stderr
    assert not os.path.exists(calc / "report.html")


def test_ui_of_a_path_that_does_not_exist_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """psweep ui on a missing calc dir says so in one line, exit code 2, and serves nothing."""
    proc = subprocess.run([sys.executable, "-m", "psweep", "ui", str(tmp_path / "nowhere"), "--no-browser"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no such calc dir" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stdout == ""


def test_the_ui_holds_the_frame_once_and_leaves_the_read_cache_empty(tmp_path: Path) -> None:
    """Study and a refresh read the database file past the store's read cache (no second copy of the
    frame), its runs table counts the frame it holds; ps.runs still reads through the cache."""
    calc = tmp_path / "calc"
    ps.run(lambda p: {"y_": p["a"]}, ps.plist("a", [1, 2]), calc_dir=str(calc))
    dbfile._DB_CACHE.clear()
    study = Study(str(calc))
    assert len(study.df) == 2 and list(study.runs()["done"]) == [2]
    ps.run(lambda p: {"y_": p["a"]}, ps.plist("a", [3]), calc_dir=str(calc))
    dbfile._DB_CACHE.clear()
    assert study.refresh() and len(study.df) == 3 and list(study.runs()["done"]) == [2, 1]
    assert dbfile._DB_CACHE == {}
    ps.runs(str(calc))
    assert list(dbfile._DB_CACHE) == [str(calc / "results.pk")]
