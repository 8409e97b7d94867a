"""Worlds from county characteristics: who is booked where follows the residents."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from scomm.domain.immigration import RecordedStatus
from scomm.sim.synth.citizenship import CitizenshipPath
from scomm.sim.synth.scenario import Scenario, ScenarioError, load_scenario, parse_scenario
from scomm.sim.synth.world import World, build_scenario_world
from scomm.sim.synth.world_export import world_statistics

COUNTIES = """
schema: 1
scenario: two-counties
seed: 7
scale: 0.05
window: {start: 2010-01-01, end: 2011-01-01}
county_defaults: {arrest_rate: 0.04, foreign_born_arrest_ratio: 1.0, prior_record: 0.3}
states:
  - code: TX
    sib_ori: TX0000000
    foreign_born: 0.3
    citizens_of_foreign_born: 0.3
    unauthorized_of_noncitizens: 0.6
    counties:
      - {ori: TX0010000, name: Border County, residents: 2000000, activation: 2009-01-01}
      - {ori: TX0020000, name: Inland County, residents: 2000000, activation: 2009-01-01,
         foreign_born: 0.03}
population:
  people_per_booking: 0.8
  citizenship_paths:
    native_citizen: {share: 0.8}
    naturalized: {share: 0.03, ident_record: 1.0}
    derived_citizen: {share: 0.03, ident_record: 1.0}
    permanent_resident: {share: 0.05, ident_record: 1.0}
    visa_holder: {share: 0.01, ident_record: 1.0}
    overstay: {share: 0.04, ident_record: 1.0}
    entered_without_inspection: {share: 0.04, ident_record: 0.5}
  status_records:
    learned: {naturalization: 0.5, derivation: 0.0, adjustment: 0.5}
    ident_since: 1990-01-01
    adjusted_of_permanent_residents: 0.6
arrests:
  offense_mix: {"5404": 0.5, "1315": 0.5}
"""


@pytest.fixture(scope="module")
def counties() -> Scenario:
    return parse_scenario(COUNTIES, "inline")


@pytest.fixture(scope="module")
def counties_world(counties: Scenario) -> World:
    return build_scenario_world(counties)


def _by_county(world: World) -> dict[str, list[object]]:
    out: dict[str, list[object]] = {}
    for planned in world.bookings:
        out.setdefault(planned.booking.ori, []).append(world.people[planned.person_id])
    return out


def test_booking_volume_follows_residents_and_arrest_rate(counties: Scenario) -> None:
    # 4 M residents at 0.04 bookings a year for a year, at scale 0.05
    assert counties.expected_bookings() == pytest.approx(4e6 * 0.04 * 0.05, rel=0.01)
    profile = counties.counties[0][1].profile
    assert profile is not None and profile.foreign_born == 0.3
    assert counties.counties[1][1].profile.foreign_born == 0.03  # type: ignore[union-attr]


def test_people_are_local_and_match_capability_follows_composition(
    counties_world: World,
) -> None:
    for planned in counties_world.bookings:  # re-arrests stay in the person's county
        assert counties_world.people[planned.person_id].ori == planned.booking.ori
    booked = _by_county(counties_world)
    border, inland = booked["TX0010000"], booked["TX0020000"]
    assert abs(len(border) - len(inland)) < 0.2 * len(border)  # same residents, same rate

    def with_record(people: list[object]) -> float:
        return sum(p.immigration is not None for p in people) / len(people)  # type: ignore[attr-defined]

    assert with_record(border) > 3 * with_record(inland) > 0
    natives = [p for p in border if p.path is CitizenshipPath.NATIVE_CITIZEN]  # type: ignore[attr-defined]
    assert natives and all(p.pob == "TX" for p in natives)  # type: ignore[attr-defined]


def test_local_arrest_practice_books_more_foreign_born_residents(counties: Scenario) -> None:
    text = COUNTIES.replace(
        "residents: 2000000, activation: 2009-01-01}",
        "residents: 2000000, activation: 2009-01-01, foreign_born_arrest_ratio: 2.5}",
        1,
    )
    practice = build_scenario_world(parse_scenario(text, "inline"))
    plain = build_scenario_world(counties)

    def foreign(world: World) -> float:
        people = _by_county(world)["TX0010000"]
        return sum(p.path is not CitizenshipPath.NATIVE_CITIZEN for p in people) / len(people)  # type: ignore[attr-defined]

    assert foreign(practice) > foreign(plain) + 0.15


def test_status_records_go_stale_from_dated_changes(counties_world: World) -> None:
    people = list(counties_world.people.values())
    changed = [p for p in people if p.status_change is not None and p.immigration is not None]
    kinds = Counter(p.status_change for p in changed)
    assert set(kinds) == {"naturalization", "derivation", "adjustment"}
    for p in changed:
        record = p.immigration
        assert record is not None and p.status_changed_at is not None
        assert record.first_encounter < p.status_changed_at < datetime(2010, 1, 1)
        if p.status_change == "derivation":  # learned: 0
            assert p.stale_record
            assert record.recorded_status is RecordedStatus.LAWFUL_PERMANENT_RESIDENT
        if p.status_change == "adjustment":
            assert p.path is CitizenshipPath.PERMANENT_RESIDENT
            shows_before = record.recorded_status in (
                RecordedStatus.VISA_OVERSTAY,
                RecordedStatus.NONIMMIGRANT_VISA,
            )
            assert shows_before == p.stale_record
        if p.status_change == "naturalization":
            current = record.recorded_status is RecordedStatus.NATURALIZED_CITIZEN
            assert current != p.stale_record
    naturalized = [p for p in changed if p.status_change == "naturalization"]
    stale = sum(p.stale_record for p in naturalized) / len(naturalized)
    assert 0.3 < stale < 0.7  # learned: 0.5
    # a permanent resident admitted from abroad has a current record
    admitted = [
        p
        for p in people
        if p.path is CitizenshipPath.PERMANENT_RESIDENT
        and p.status_change is None
        and p.immigration is not None
    ]
    assert admitted
    assert all(
        p.immigration.recorded_status is RecordedStatus.LAWFUL_PERMANENT_RESIDENT  # type: ignore[union-attr]
        for p in admitted
    )


def test_learning_every_change_leaves_no_stale_record() -> None:
    text = COUNTIES.replace(
        "learned: {naturalization: 0.5, derivation: 0.0, adjustment: 0.5}",
        "learned: {naturalization: 1.0, derivation: 1.0, adjustment: 1.0}",
    )
    world = build_scenario_world(parse_scenario(text, "inline"))
    assert not any(p.stale_record for p in world.people.values())


def test_the_rollout_match_capability_differs_by_state_and_falls_inland() -> None:
    rollout = load_scenario("rollout-2008-2011").with_overrides(scale=2e-3)
    world = build_scenario_world(rollout)
    per_state: Counter[str] = Counter()
    capable_state: Counter[str] = Counter()
    per_year: Counter[int] = Counter()
    capable_year: Counter[int] = Counter()
    for planned in world.bookings:
        plan = world.plan(planned.booking.ori)
        at = planned.booking.booked_at
        if not plan.activated_at(at):
            continue
        capable = world.people[planned.person_id].immigration is not None
        state, year = plan.jurisdiction.state, at.year + (at.month >= 10)
        per_state[state] += 1
        capable_state[state] += capable
        per_year[year] += 1
        capable_year[year] += capable
    rate = {s: capable_state[s] / per_state[s] for s in per_state if per_state[s] > 100}
    assert max(rate.values()) > 2 * min(rate.values())
    assert capable_year[2009] / per_year[2009] > capable_year[2011] / per_year[2011]
    stats = world_statistics(world)  # world.json says the same
    by_state = stats["expected_match_rate_by_state"]
    # (over the target window, to 31 March: nearly the same)
    assert by_state["CA"] == pytest.approx(capable_state["CA"] / per_state["CA"], abs=0.01)
    assert set(stats["expected_match_rate_by_fiscal_year"]) == {"FY2009", "FY2010", "FY2011"}
    assert set(stats["stale_records_by_change"]) == {"naturalization", "derivation", "adjustment"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("name: Border County, residents: 2000000", "name: Border County, share: 0.5"),
            "every county needs `residents`",
        ),
        (
            (
                "name: Border County, residents: 2000000",
                "name: Border County, share: 1, residents: 5",
            ),
            "one of share or residents, got both",
        ),
        (("    foreign_born: 0.3\n", "    foreign_born: 1.3\n"), "states[0].foreign_born"),
        (("naturalization: 0.5,", "naturalisation: 0.5,"), "status_records.learned"),
        (
            (
                "naturalized: {share: 0.03, ident_record: 1.0}",
                "naturalized: {share: 0.03, stale: 0.5}",
            ),
            "naturalized.stale: not with status_records",
        ),
    ],
)
def test_a_broken_county_file_says_where(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in COUNTIES
    with pytest.raises(ScenarioError, match=expected.replace("[", r"\[").replace("`", ".")):
        parse_scenario(COUNTIES.replace(old, new, 1), "inline")
