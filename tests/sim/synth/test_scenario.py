"""Scenario files: the built-in ones load, and a broken file says where and what is wrong."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from scomm.config import Settings
from scomm.domain.messages import DispositionOutcome
from scomm.domain.policies import DetainerPolicy
from scomm.domain.safeguards import Safeguards
from scomm.domain.switches import Switch
from scomm.sim.driver import scenario_settings
from scomm.sim.synth.citizenship import CitizenshipPath
from scomm.sim.synth.scenario import ScenarioError, builtin_scenarios, load_scenario, parse_scenario

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


TARGET = """offense_mix: {{"5404": 1.0}}
targets:
  figures:
    odd: {{value: 3, source: test, measure: submissions, {}}}"""


def test_builtin_scenarios_load() -> None:
    assert {"demo", "rollout-2008-2011"} <= set(builtin_scenarios())
    rollout = load_scenario("rollout-2008-2011")
    assert rollout.start == datetime(2008, 10, 1)
    assert len(rollout.counties) >= 24 and len(rollout.states) >= 5
    pilots = [
        c for _, c in rollout.counties if c.activation and c.activation < datetime(2009, 1, 1)
    ]
    assert 1 <= len(pilots) <= 6  # a few pilot counties in late 2008 (DOMAIN.md §3.1)
    assert rollout.safeguards.status_currency is False  # the original program
    assert {t.name for t in rollout.targets} >= {
        "submissions",
        "ident_matches_to_aug_2009",
        "citizens_among_ice_arrests",
        "removals_without_conviction",
    }
    roles = {t.name: t.role for t in rollout.targets}
    assert set(roles.values()) == {"fit", "check"}
    # the thin citizens figure (6 of 375 cases) is held back, never fitted
    assert roles["citizens_among_ice_arrests"] == "check"
    fiscal = next(t for t in rollout.targets if t.name == "identified_fy2009")
    assert fiscal.window == (datetime(2008, 10, 1), datetime(2009, 10, 1))
    assert fiscal.comparison == "at_least" and fiscal.measured == "ident_matches"
    assert any(t.state == "IL" for t in rollout.targets)
    assert all(c.profile is not None for _, c in rollout.counties)
    refused = [r for _, c in rollout.counties for r in c.opt_out_requests if not r.granted]
    assert refused and all(r.switch is Switch.B_FORWARD_TO_IDENT for r in refused)
    shares = rollout.dispositions.shares
    assert shares[DispositionOutcome.DISMISSED] + shares[DispositionOutcome.ACQUITTED] > 0.2


def test_a_minimal_file_gets_defaults(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(MINIMAL)
    scenario = load_scenario(path)
    assert scenario.name == "tiny" and scenario.fixed_bookings == 10
    assert scenario.population.paths[CitizenshipPath.OVERSTAY].ident_record == 1.0
    assert scenario.counties[0][1].detainer_policy is DetainerPolicy.HONOR_ALL
    assert scenario.safeguards.status_currency  # safeguards on unless the file says otherwise


def test_safeguards_can_be_named_one_by_one() -> None:
    text = MINIMAL + "safeguards: {status_currency: false, match_evidence: true}\n"
    scenario = parse_scenario(text, "inline")
    assert scenario.safeguards.status_currency is False
    assert scenario.safeguards.withdraw_on_dismissal is True


@pytest.mark.parametrize(
    ("change", "where", "expected"),
    [
        (("bookings: 10", "bookings: ten"), "bookings", "an integer"),
        (("end: 2010-07-01", "end: 2009-07-01"), "window.end", "a date after window.start"),
        (
            ("activation: 2009-01-01", "activation: someday"),
            "states[0].counties[0].activation",
            "a date",
        ),
        (("ori: TX0010000", "ori: TX1"), "states[0].counties[0].ori", "a 9-character ORI"),
        (
            ("share: 0.5}\n    overstay", "share: 0.7}\n    overstay"),
            "citizenship_paths",
            "add up to 1",
        ),
        (('"5404": 1.0', '"9998": 1.0'), "arrests.offense_mix.9998", "an NCIC code"),
        (("overstay: {", "overstayed: {"), "citizenship_paths.overstayed", "one of"),
        (("schema: 1", "schema: 2"), "schema", "1"),
        (
            ("sib_ori: TX0000000", "sib_ori: TX0000000\n    capital: Austin"),
            "states[0].capital",
            "unknown key",
        ),
        (
            ('offense_mix: {"5404": 1.0}', TARGET.format("measure: arrests_per_fortnight")),
            "targets.figures.odd.measure",
            "a measure one of",
        ),
        (
            ('offense_mix: {"5404": 1.0}', TARGET.format("role: tuned")),
            "targets.figures.odd.role",
            "one of check, fit",
        ),
        (
            ('offense_mix: {"5404": 1.0}', TARGET.format("state: CA")),
            "targets.figures.odd.state",
            "one of TX",
        ),
        (
            (
                'offense_mix: {"5404": 1.0}',
                TARGET.format("window: {start: 2010-02-01, end: 2010-01-01}"),
            ),
            "targets.figures.odd.window.end",
            "a date after",
        ),
        (
            ('offense_mix: {"5404": 1.0}', TARGET.format("comparison: about")),
            "targets.figures.odd.comparison",
            "one of at_least, at_most, equal",
        ),
    ],
)
def test_a_broken_file_names_the_key_and_what_was_expected(
    tmp_path: Path, change: tuple[str, str], where: str, expected: str
) -> None:
    old, new = change
    assert old in MINIMAL
    path = tmp_path / "broken.yaml"
    path.write_text(MINIMAL.replace(old, new, 1))
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    message = str(raised.value)
    assert str(path) in message and where in message and expected in message


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nopop.yaml"
    path.write_text(MINIMAL.split("population:")[0] + "arrests:\n  offense_mix: {'5404': 1}\n")
    with pytest.raises(ScenarioError, match=r"nopop.yaml: population: missing"):
        load_scenario(path)


def test_not_yaml_and_unknown_names_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("schema: [1\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="rollout-2008-2011"):
        load_scenario("no-such-scenario")
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "absent.yaml")


def test_a_scenario_sets_the_runs_safeguards_and_officer_policy() -> None:
    rollout = load_scenario("rollout-2008-2011")
    settings = scenario_settings(Settings(database_url="sqlite://"), rollout)
    assert settings.safeguards == Safeguards.all_off()
    assert settings.officer_policy.name == "sim-officer-2009" and settings.seed == rollout.seed
    guarded = scenario_settings(settings, rollout.with_overrides(safeguards=Safeguards()))
    assert guarded.safeguards.status_currency and guarded.safeguards.withdraw_on_dismissal
