"""The public pages in Chromium (Playwright), opened from file://: they load without an
error, the state -> county -> month drill-down shows the month's values, and no suppressed
value appears anywhere: every data entry of a suppressed cell is null and its table cells
show the marker. One browser for the module; Debian's chromium, never `playwright install`
(.ci/run installs chromium where it is missing)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from public_release import JURISDICTIONS, MEASURES, write_release

from scomm.reports.cells import CellKey
from scomm.reports.site import SUPPRESSED, write_site

CHROMIUM = next(
    (p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if Path(p).is_file()),
    shutil.which("chromium"),
)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium; run it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"], headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[CellKey, int | None]]:
    folder = tmp_path_factory.mktemp("public")
    cells = write_release(folder / "release")
    write_site(folder / "release", folder / "site")
    return folder / "site", cells


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A 1366x768 page (a laptop's screen) that collects console errors and page errors."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    opened = context.new_page()
    opened.errors = []
    opened.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: opened.errors.append(str(e)))
    yield opened
    context.close()


def expected_text(value: int | None) -> str:
    return SUPPRESSED if value is None else f"{value:,}"


def test_every_page_loads_without_errors_and_draws_its_charts(
    page: Any, site: tuple[Path, dict[CellKey, int | None]]
) -> None:
    folder, cells = site
    for name, chart in (("index", "#chart-ice_monthly"), ("whatif", "#whatif-chart"),
                        ("drilldown", "#selection-chart"), ("downloads", None)):  # fmt: skip
        page.goto((folder / f"{name}.html").as_uri())
        if chart:
            page.wait_for_selector(f"{chart} .main-svg")
        assert page.errors == [], name
    page.goto((folder / "index.html").as_uri())
    shown = page.locator("#nation-table td[data-status]").all_inner_texts()
    assert shown == [expected_text(cells[CellKey(m.name, "US", "cumulative")]) for m in MEASURES]


def test_the_drill_down_shows_the_months_values_and_never_a_suppressed_one(
    page: Any, site: tuple[Path, dict[CellKey, int | None]]
) -> None:
    folder, cells = site
    page.goto((folder / "drilldown.html").as_uri())
    counties = page.locator("#county-list option").all_inner_texts()
    assert len(counties) == 1 + len(JURISDICTIONS)  # all states: every county
    page.select_option("#state-list", "CA")
    counties = page.locator("#county-list option").all_inner_texts()
    assert len(counties) == 3 and "activated 2009-10-27" in counties[1]  # CA's two and "all"
    page.select_option("#county-list", "CA0010000")
    page.select_option("#month-list", "2009-11")
    assert "2009-11" in page.inner_text("#selection-title")
    rows = page.locator("#selection-table tr[data-measure]")
    got = {
        rows.nth(i).get_attribute("data-measure"): rows.nth(i).locator("td").nth(1).inner_text()
        for i in range(rows.count())
    }
    want = {m.name: expected_text(cells[CellKey(m.name, "CA0010000", "2009-11")]) for m in MEASURES}
    assert got == want
    assert SUPPRESSED in got.values()  # the month has a suppressed cell to hide
    page.check("input[name=scale][value=percent]")
    for i in range(rows.count()):  # no percent of a suppressed count
        if rows.nth(i).locator("td").nth(1).inner_text() == SUPPRESSED:
            assert rows.nth(i).locator("td").nth(2).inner_text() == "–"
    # the month table of the county: every suppressed cell shows the marker, nothing else
    marked = page.locator("#month-table td.suppressed").all_inner_texts()
    county = [k for k, v in cells.items() if k.geo == "CA0010000" and v is None]
    assert marked == [SUPPRESSED] * len(county)
    # and in the data every suppressed cell is null
    data = page.evaluate("window.SCOMM")
    at = {period: i for i, period in enumerate(data["periods"])}
    leaks = [
        k for k, v in cells.items()
        if v is None and data["values"][k.measure][k.geo][at[k.period]] is not None
    ]  # fmt: skip
    assert leaks == [] and sum(v is None for v in cells.values()) > 20
    assert page.errors == []
    # the month table scrolls inside its box, which fits a laptop's screen (1366x768)
    box = page.locator(".scrollbox.months").bounding_box()
    assert box["width"] <= 1366 and box["height"] <= 0.6 * 768
