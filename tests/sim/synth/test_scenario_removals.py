"""The scenario's `removals` section (what ICE and the court do after a transfer) and the
removals a report counts from the flow's audit entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from scomm.config import Settings
from scomm.domain.removals import Days, RemovalPolicy
from scomm.sim.driver import scenario_settings
from scomm.sim.synth.scenario import ScenarioError, load_scenario, parse_scenario

MINIMAL = """
schema: 1
scenario: tiny
bookings: 10
window: {start: 2010-01-01, end: 2010-07-01}
states:
  - code: TX
    sib_ori: TX0000000
    counties:
      - {ori: TX0010000, name: One County, share: 1.0, activation: 2009-01-01}
population:
  citizenship_paths:
    native_citizen: {share: 0.5}
    overstay: {share: 0.5, ident_record: 1.0}
arrests:
  offense_mix: {"5404": 1.0}
"""

SECTION = """
removals:
  name: sim-removals-test
  detention_share: 0.8
  hearing_share: 0.5
  counsel_share: 0.25
  relief: {with_counsel: 0.2}
  removable_levels: [1]
  days:
    hearing: {median: 30, sigma: 0.5, min: 5, max: 200}
"""


def test_the_section_sets_the_runs_removal_policy() -> None:
    scenario = parse_scenario(MINIMAL + SECTION, "inline")
    policy = scenario.removals
    assert policy.name == "sim-removals-test"
    assert (policy.detention_share, policy.hearing_share, policy.counsel_share) == (0.8, 0.5, 0.25)
    assert policy.relief_with_counsel == 0.2
    assert policy.relief_without_counsel == RemovalPolicy().relief_without_counsel  # default
    assert policy.removable_levels == (1,)
    assert policy.hearing_days == Days(30, 0.5, 5, 200)
    assert policy.removal_days == RemovalPolicy().removal_days
    settings = scenario_settings(Settings(database_url="sqlite://"), scenario)
    assert settings.removal_policy == policy


def test_without_the_section_the_policy_defaults() -> None:
    assert parse_scenario(MINIMAL, "inline").removals == RemovalPolicy()


def test_the_builtin_scenarios_say_what_ice_does_after_a_transfer() -> None:
    for name, policy_name in (
        ("demo", "sim-removals-demo"),
        ("rollout-2008-2011", "sim-removals-2009"),
    ):
        policy = load_scenario(name).removals
        assert policy.name == policy_name
        # the Warren Institute's figures for S-Comm arrestees (DOMAIN.md §5 [V][12])
        assert (policy.detention_share, policy.hearing_share, policy.counsel_share) == (
            0.83,
            0.52,
            0.24,
        )


@pytest.mark.parametrize(
    ("section", "where", "expected"),
    [
        ("removals: {detention_share: 1.5}", "removals.detention_share", "between 0.0 and 1.0"),
        ("removals: {relief: {always: 1}}", "removals.relief.always", "unknown key"),
        ("removals: {removable_levels: [4]}", "removals.removable_levels", "levels 1-3"),
        ("removals: {days: {hearing: {median: -1}}}", "removals.days.hearing.median", "at least"),
        ("removals: {days: {trial: {median: 3}}}", "removals.days.trial", "unknown key"),
        ("ice_custody: {removal_share: 0.5}", "ice_custody", "removals"),
    ],
)
def test_a_broken_section_names_the_key(
    tmp_path: Path, section: str, where: str, expected: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(MINIMAL + section + "\n")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    message = str(raised.value)
    assert str(path) in message and where in message and expected in message
