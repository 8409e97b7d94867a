"""Targets measured over their own period and place, fit and check apart, citizens and
residents with their sensitivity: on a run record made from the world itself (no flow)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scomm.domain.ids import derived_id
from scomm.domain.immigration import RecordedStatus
from scomm.domain.removals import REMOVAL_LEVELS
from scomm.reports.html import render_report
from scomm.sim.scenario_figures import (
    breakdown,
    citizens_and_residents,
    fiscal_years,
    target_chart,
)
from scomm.sim.scenario_report import (
    Removal,
    RunRecord,
    case_facts,
    measure,
    period_label,
    target_table,
)
from scomm.sim.synth.scenario import Scenario, parse_scenario
from scomm.sim.synth.world import World, build_scenario_world

SCENARIO = """
schema: 1
scenario: report-check
seed: 3
scale: 0.02
window: {start: 2008-10-01, end: 2010-10-01}
county_defaults: {arrest_rate: 0.04, foreign_born_arrest_ratio: 1.0, prior_record: 0.3}
states:
  - code: TX
    sib_ori: TX0000000
    foreign_born: 0.3
    citizens_of_foreign_born: 0.4
    unauthorized_of_noncitizens: 0.6
    counties:
      - {ori: TX0010000, name: Early County, residents: 1000000, activation: 2008-10-01}
  - code: IL
    sib_ori: IL0000000
    foreign_born: 0.1
    citizens_of_foreign_born: 0.5
    unauthorized_of_noncitizens: 0.5
    counties:
      - {ori: IL0010000, name: Late County, residents: 1000000, activation: 2009-10-01}
population:
  citizenship_paths:
    native_citizen: {share: 0.8}
    naturalized: {share: 0.05, ident_record: 1.0}
    permanent_resident: {share: 0.05, ident_record: 1.0}
    overstay: {share: 0.1, ident_record: 1.0}
  status_records:
    learned: {naturalization: 0.5, derivation: 0.5, adjustment: 0.5}
    ident_since: 1985-01-01
    adjusted_of_permanent_residents: 0.6
    sensitivity: [0.0, 1.0]
arrests:
  offense_mix: {"5404": 0.5, "1315": 0.5}
targets:
  window: {start: 2008-10-01, end: 2010-10-01}
  figures:
    submissions: {value: 1000, role: fit, source: test}
    matches_fy2010:
      measure: ident_matches
      value: 50
      role: check
      comparison: at_least
      window: {start: 2009-10-01, end: 2010-10-01}
      source: test
    illinois_match_rate:
      {measure: ident_match_rate, value: 0.05, state: IL, role: check, source: test}
    citizens_among_ice_arrests: {value: 0.016, role: check, source: test}
"""


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return parse_scenario(SCENARIO, "inline")


@pytest.fixture(scope="module")
def world(scenario: Scenario) -> World:
    return build_scenario_world(scenario)


def _removable_looking(status: RecordedStatus, level: int) -> bool:
    """removability() in short: a permanent resident on a level-1 charge, anyone out of
    status, never a recorded citizen."""
    if status is RecordedStatus.LAWFUL_PERMANENT_RESIDENT:
        return level == 1
    return status is not RecordedStatus.NATURALIZED_CITIZEN


@pytest.fixture(scope="module")
def record(world: World) -> RunRecord:
    """What a perfect flow would record: every activated booking searched, a match for each
    person with an IDENT record, level 1 for every other match, a detainer and an ICE
    arrest wherever the record makes the person look removable."""
    run = RunRecord()
    run.switch_settings = [s for plan in world.jurisdictions for s in plan.settings]
    for planned in world.bookings:
        booking = planned.booking
        case = derived_id("case", booking.tcn)
        run.bookings[case] = (booking.ori, booking.booked_at)
        if not world.plan(booking.ori).activated_at(booking.booked_at):
            continue
        person = world.people[planned.person_id]
        if person.immigration is None:
            run.ident_replies.add(("IDR_NO_MATCH", case))
            continue
        run.ident_replies.add(("IDR_MATCH", case))
        run.ident_ids[case] = person.immigration.ident_id
        run.levels[case] = 1 if len(run.levels) % 2 == 0 else 3
        if _removable_looking(person.immigration.recorded_status, run.levels[case]):
            run.detainers.append(case)
            run.custody[case] = "transferred_to_ice"
    return run


def test_each_target_is_measured_over_its_own_period_and_place(
    world: World, record: RunRecord
) -> None:
    measured = measure(record, world)
    activated = [
        p for p in world.bookings if world.plan(p.booking.ori).activated_at(p.booking.booked_at)
    ]
    assert measured["submissions"].value == len(activated)
    fy2010 = [
        p
        for p in activated
        if p.booking.booked_at >= datetime(2009, 10, 1)
        and world.people[p.person_id].immigration is not None
    ]
    assert measured["matches_fy2010"].value == len(fy2010)
    illinois = [p for p in activated if p.booking.ori == "IL0010000"]
    matched = [p for p in illinois if world.people[p.person_id].immigration is not None]
    rate = measured["illinois_match_rate"]
    assert (rate.numerator, rate.denominator) == (len(matched), len(illinois))


def test_the_table_says_role_period_place_and_coverage(world: World, record: RunRecord) -> None:
    rows = {r["figure"]: r for r in target_table(world, measure(record, world))}
    assert rows["submissions"]["role"] == "fit"
    assert {rows[k]["role"] for k in rows if k != "submissions"} == {"check"}
    assert rows["matches_fy2010"]["period"] == "FY2010"
    assert rows["submissions"]["period"] == "2008-10 to 2010-09"
    assert rows["illinois_match_rate"]["state"] == "IL"
    assert rows["submissions"]["state"] == "national"
    # a published lower bound is covered when the interval reaches it
    bound = rows["matches_fy2010"]
    assert bound["comparison"] == "at_least"
    assert bound["target_in_interval"] == (bound["interval_95"][1] >= bound["target"])
    assert bound["target"] == pytest.approx(50 * 0.02)


def test_a_share_over_no_case_is_neither_covered_nor_not(world: World) -> None:
    rows = target_table(world, measure(RunRecord(), world))  # a run that booked nobody
    share = next(r for r in rows if r["figure"] == "citizens_among_ice_arrests")
    assert share["simulated"] is None and share["target_in_interval"] is None
    count = next(r for r in rows if r["figure"] == "submissions")
    assert count["simulated"] == 0 and count["target_in_interval"] is False


def test_breakdown_per_fiscal_year_and_state(
    world: World, record: RunRecord, scenario: Scenario
) -> None:
    rows = breakdown(case_facts(record, world), scenario)
    places = {(r["period"], r["state"]) for r in rows}
    assert {("FY2009", "national"), ("FY2010", "national"), ("2008-10 to 2010-09", "IL")} <= places
    late = next(r for r in rows if r["figure"] == "submissions" and r["period"] == "FY2009")
    texas = next(r for r in rows if r["figure"] == "submissions" and r["state"] == "TX")
    illinois = next(r for r in rows if r["figure"] == "submissions" and r["state"] == "IL")
    total = next(
        r
        for r in rows
        if r["figure"] == "submissions"
        and r["period"] == "2008-10 to 2010-09"
        and r["state"] == "national"
    )
    assert texas["simulated"] + illinois["simulated"] == total["simulated"]
    assert late["simulated"] < texas["simulated"]  # Illinois was not activated in FY2009
    rates = {
        r["state"]: r["simulated"]
        for r in rows
        if r["figure"] == "ident_match_rate" and r["state"] in ("TX", "IL")
    }
    assert rates["TX"] > rates["IL"]  # composition, not a set rate


def test_citizens_and_residents_with_their_sensitivity(
    world: World, record: RunRecord, scenario: Scenario
) -> None:
    table = citizens_and_residents(case_facts(record, world), scenario)
    arrests = table["stages"]["ice_arrests"]
    citizens = arrests["citizens"]
    assert arrests["n"] > 50 and 0 < citizens["share"] < 0.5
    low, high = citizens["interval_95"]
    assert low < citizens["share"] < high
    sensitivity = citizens["sensitivity"]["naturalization"]
    # IDENT never learning of a naturalization sends more citizens to ICE; always, none
    # through naturalization (the ones left are derived citizens, none in this world)
    assert sensitivity["learned=0"]["share"] > citizens["share"]
    assert sensitivity["learned=1"]["share"] == 0
    # a change the stage does not depend on leaves the share alone
    matches = table["stages"]["ident_matches"]["citizens"]
    unchanged = matches["sensitivity"]["naturalization"]["learned=0"]
    low, high = unchanged["interval_95"]
    assert low < matches["share"] < high
    # permanent residents reach ICE on a level-1 charge anyway, and out of status while
    # IDENT still shows the visa or the overstay before their adjustment
    residents = arrests["permanent_residents"]
    moved = residents["sensitivity"]["adjustment"]
    assert moved["learned=1"]["share"] < residents["share"] < moved["learned=0"]["share"]


def _crossing(record: RunRecord) -> tuple[RunRecord, str]:
    """The record with one ICE arrest made in FY2010 of a person booked in FY2009, removed
    in FY2010 too: the events of one case on both sides of the year's end."""
    case = next(
        c
        for c in record.detainers
        if record.bookings[c][1] < datetime(2009, 9, 1) and record.custody.get(c)
    )
    run = dataclasses.replace(record, transfers=dict(record.transfers), removals={})
    run.transfers[case] = datetime(2009, 10, 5)
    run.removals[case] = Removal(datetime(2009, 12, 1), 0, REMOVAL_LEVELS, "hearing")
    return run, case


def _row(rows: list[dict[str, Any]], figure: str, period: str) -> dict[str, Any]:
    return next(
        r for r in rows if (r["figure"], r["period"], r["state"]) == (figure, period, "national")
    )


def test_removals_and_arrests_count_in_the_year_they_happened(
    world: World, record: RunRecord, scenario: Scenario
) -> None:
    """ICE counts a removal (and an arrest) by its own date: a person booked in FY2009,
    taken into ICE custody and removed in FY2010 is FY2010's, not FY2009's, nor lost."""
    run, _ = _crossing(record)
    rows = breakdown(case_facts(run, world), scenario)
    assert _row(rows, "removals", "FY2010")["simulated"] == 1
    assert _row(rows, "removals", "FY2009")["simulated"] == 0
    plain = breakdown(case_facts(record, world), scenario)
    for year, moved in (("FY2009", -1), ("FY2010", 1)):
        before, after = _row(plain, "ice_arrests", year), _row(rows, "ice_arrests", year)
        assert after["simulated"] == before["simulated"] + moved
    # a removal after the national window's end is no removal of the window
    late, case = _crossing(record)
    late.removals[case] = Removal(
        scenario.target_window[1] + timedelta(days=1), 0, REMOVAL_LEVELS, "hearing"
    )
    assert (
        _row(breakdown(case_facts(late, world), scenario), "removals", "FY2010")["simulated"] == 0
    )


def test_periods_and_fiscal_years() -> None:
    assert period_label((datetime(2008, 10, 1), datetime(2009, 10, 1))) == "FY2009"
    assert period_label((datetime(2008, 10, 1), datetime(2009, 9, 1))) == "2008-10 to 2009-08"
    years = fiscal_years(datetime(2008, 10, 1), datetime(2011, 5, 1))
    assert [period_label(y) for y in years] == ["FY2009", "FY2010", "2010-10 to 2011-04"]


def test_the_chart_of_simulated_against_published(
    tmp_path: Path, world: World, record: RunRecord
) -> None:
    pytest.importorskip("altair")
    rows = target_table(world, measure(record, world))
    written = target_chart(rows, tmp_path)
    assert written == {"written": ["targets_chart.html", "targets_chart.vl.json"], "problem": None}
    spec = json.loads((tmp_path / "targets_chart.vl.json").read_text())
    values = spec["data"]["values"]
    assert {v["role"] for v in values if "role" in v} == {"fit", "check"}
    assert "vega" in (tmp_path / "targets_chart.html").read_text()


def test_the_html_report_shows_fit_and_check_apart_and_the_citizens_table(
    world: World, record: RunRecord, scenario: Scenario
) -> None:
    cases = case_facts(record, world)
    context = {
        "targets": target_table(world, measure(record, world, cases)),
        "breakdown": breakdown(cases, scenario),
        "citizens_and_residents": citizens_and_residents(cases, scenario),
        "chart": {"written": [], "problem": "altair is not installed"},
        "target_window": "2008-10-01 to 2010-10-01",
        "scale": scenario.scale,
    }
    empty: dict[str, object] = {"messages": {}, "outcomes": {}, "decisions": {}, "levels": {}}
    html = render_report(
        "t",
        empty | {"final_states": {}, "hops": {}, "audit_entries": 0, "per_jurisdiction": {}},
        context,
    )
    fit, check = html.index("<h3>fit figures</h3>"), html.index("<h3>check figures</h3>")
    assert fit < html.index("<td>submissions</td>") < check < html.index("<td>matches_fy2010</td>")
    assert "&ge; 1" in html  # the published lower bound, at scale
    assert "Citizens and permanent residents" in html and "learned=0" in html
    assert "<td>FY2010</td><td>national</td><td>ident_match_rate</td>" in html
    assert "No chart: altair is not installed" in html
