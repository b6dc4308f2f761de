"""The views in a real headless Chromium, against a real ``psweep ui`` process.

One server on the example study and one browser serve the whole module;
the live-run test starts a server of its own beside a real driver process.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_helpers import Server, tree_digest

import psweep as ps

dash = pytest.importorskip("dash", reason="the ui tests need the ui extra (pip install 'psweep[ui]')")

HERE = Path(__file__).resolve().parent
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def served(example_calc: Path) -> Iterator[tuple[Server, dict]]:
    """A psweep ui process on the example study, and the digest of the calc dir before it started."""
    before = tree_digest(example_calc)
    server = Server(example_calc, example_calc.parent)
    try:
        yield server, before
    finally:
        server.stop()


@pytest.fixture()
def page(browser, served):
    """A fresh page that records console errors, page errors and every request's URL."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors, page.requests = [], []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.requests.append(r.url))
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()


def _only_local(urls: list[str], base: str) -> list[str]:
    return [u for u in urls if not u.startswith(base)]


def test_each_view_opens_with_no_console_error_and_no_request_out(page, served) -> None:
    """Runs, Results, Failures, Coverage and a pset render; all requests go to the server, no console error."""
    server, _ = served
    url = server.url
    page.goto(url + "runs")
    page.wait_for_selector("#runs-table td:has-text('finished')")
    assert page.locator("#study-line").inner_text() != ""
    page.goto(url + "results")
    page.wait_for_selector("#plot .main-svg")
    page.wait_for_selector("#results-table td:has-text('0.4')")
    page.goto(url + "failures")
    page.wait_for_selector(".failure-group:has-text('Euler is unstable')")
    page.goto(url + "coverage")
    page.wait_for_selector("#coverage-counts:has-text('30 missing')")
    page.wait_for_selector("#coverage-plot .main-svg")
    ok_id = ps.df_read(str(server.calc_dir)).query("not _failed")["_pset_id"].iloc[0]
    page.goto(url + f"pset/{ok_id}")
    image = page.wait_for_selector("#pset-files img[src$='trajectory.svg']")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image)
    page.wait_for_selector("#pset-files pre:has-text('1.000000')")
    page.click("#nav-runs")
    page.wait_for_selector("#runs-table")
    assert page.errors == []
    assert _only_local(page.requests, url) == []


def test_click_from_failures_to_a_traceback(page, served) -> None:
    """One click on a failed pset in Failures shows its traceback, its files and its run's source diff."""
    server, _ = served
    page.goto(server.url + "failures")
    page.locator("a.pset-link").first.click()
    page.wait_for_selector("#pset_exc_txt:has-text('ValueError: Euler is unstable')")
    assert page.url.startswith(server.url + "pset/")
    page.wait_for_selector("#diff-text:has-text('(the same source)')")
    assert page.errors == []


def test_change_the_plot_axis_and_filter_the_table(page, served) -> None:
    """Picking another x redraws the plot over it; a filter typed in the table pages on the server."""
    server, _ = served
    page.goto(server.url + "results")
    page.wait_for_selector("#plot .xtitle:has-text('rate')")
    page.click("#plot-x")
    if int(dash.__version__.split(".")[0]) >= 4:  # Dash 4's own dropdown
        page.get_by_role("option", name="dt", exact=True).click()
    else:  # react-select: type to search, Enter picks
        page.keyboard.type("dt")
        page.keyboard.press("Enter")
    page.wait_for_selector("#plot .xtitle:has-text('dt')")
    cell = page.locator("#results-table th.dash-filter[data-dash-column='rate'] input[type='text']")
    cell.fill("> 4")
    cell.press("Enter")
    page.wait_for_selector("#results-table .current-page", state="attached")
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"#results-table td[data-dash-column='rate']\")]"
        ".every(td => td.innerText.trim() === '8')"
    )
    assert page.errors == []


def test_report_opens_offline(browser, example_calc: Path, tmp_path: Path) -> None:
    """The report renders its plots in Chromium with the network blocked: every request is file:/data:/about:."""
    out = tmp_path / "report.html"
    ps.report(str(example_calc), str(out))
    context = browser.new_context()
    requests, errors = [], []

    def block(route) -> None:
        requests.append(route.request.url)
        if route.request.url.startswith(("file:", "data:", "about:")):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", block)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.as_uri())
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=WAIT_MS)
    assert page.locator(".js-plotly-plot").count() >= 4
    context.close()
    assert [u for u in requests if not u.startswith(("file:", "data:", "about:"))] == []
    assert errors == []


def test_live_run_counts_grow_without_reload(browser, tmp_path: Path) -> None:
    """While a real driver appends rows, the Runs view shows it running and its done count grows, no reload."""
    calc = tmp_path / "calc"
    driver = subprocess.Popen([sys.executable, str(HERE / "slow_driver.py"), str(calc), "40", "0.25"],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = None
    context = browser.new_context()
    try:
        server = Server(calc, tmp_path)
        page = context.new_page()
        page.goto(server.url + "runs")
        page.evaluate("window.__not_reloaded = true")
        page.wait_for_selector("#runs-table td:has-text('running')", timeout=WAIT_MS)
        done = page.locator("#runs-table td[data-dash-column='done']").first
        seen = [int(done.inner_text())]
        deadline = time.monotonic() + 30
        while len(set(seen)) < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
            seen.append(int(done.inner_text()))
        assert len(set(seen)) >= 3 and seen == sorted(seen), seen
        assert page.evaluate("window.__not_reloaded") is True
    finally:
        context.close()
        driver.kill()
        driver.wait(timeout=20)
        if server is not None:
            server.stop()


def test_the_session_left_the_calc_dir_byte_identical_and_ctrl_c_stops(served, example_calc: Path) -> None:
    """After the sessions the calc dir is as before (lock file included); Ctrl-C ends the server with 0."""
    server, before = served
    assert tree_digest(example_calc) == before
    assert server.stop() == 0
    assert any("psweep ui: stopped" in line for line in server.output)
    assert tree_digest(example_calc) == before
