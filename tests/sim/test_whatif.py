"""The policy what-if: the same world under two policies, and what differs between them."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import pytest

from scomm.config import Settings
from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.policies import DetainerPolicy
from scomm.domain.safeguards import Safeguards
from scomm.domain.switches import Switch
from scomm.sim.scenario_report import RunRecord, case_facts, measure_figure
from scomm.sim.synth.scenario import Scenario, load_scenario, parse_scenario
from scomm.sim.synth.world import World, build_scenario_world
from scomm.sim.whatif import (
    BUILTIN,
    MEASURES,
    Comparison,
    Policy,
    WhatIfError,
    arm_figures,
    compare,
    load_policy,
    rules_throughout,
    t_interval,
    t_quantile_975,
)

BOOKINGS = 160


@pytest.fixture(scope="module")
def demo() -> Scenario:
    return load_scenario("demo").with_overrides(bookings=BOOKINGS)


@pytest.fixture(scope="module")
def safeguards(demo: Scenario) -> Comparison:
    """The demo world, one seed, all safeguards on (A) and off (B)."""
    return compare(demo, BUILTIN["safeguards-on"], BUILTIN["safeguards-off"], 1)


def test_both_arms_make_the_same_bookings_with_the_same_ident_answers(
    safeguards: Comparison,
) -> None:
    ((on, off),) = safeguards.runs
    assert on.bookings == off.bookings and len(on.bookings) == BOOKINGS
    assert on.ident_answers == off.ident_answers
    assert "IDR_MATCH" in on.ident_answers.values()
    assert "IDR_NO_MATCH" in on.ident_answers.values()
    (check,) = safeguards.checks
    assert (check.both, check.one_only, check.ident_differs) == (BOOKINGS, 0, 0)
    for name in ("submissions", "ident_matches", "ident_matches_l1", "us_citizens_ident_matches"):
        assert on.figures[name] == off.figures[name], name


def test_safeguards_keep_detainers_off_citizens_the_original_program_lodged(
    safeguards: Comparison,
) -> None:
    ((on, off),) = safeguards.runs
    # safeguard (a): LESC answers "status unresolved" for a record that shows citizenship,
    # and no officer detains on that; without it the same matches get detainers
    # (the release counts those whose USCIS record shows citizenship, safeguard or not)
    assert on.figures["citizens_status_unresolved"] > 0 == off.figures["citizens_status_unresolved"]
    assert on.figures["citizens_matched"] == off.figures["citizens_matched"] > 0
    assert 0 < on.figures["us_citizens_status_unresolved"]
    assert on.figures["us_citizens_detainers"] == 0 < off.figures["us_citizens_detainers"]
    assert on.figures["us_citizens_ice_arrests"] == 0
    assert off.figures["detainers_lodged"] > on.figures["detainers_lodged"]
    assert on.figures["citizens_detained"] == 0 < off.figures["citizens_detained"]
    rows = {r["measure"]: r for r in safeguards.rows()}
    difference = rows["us_citizens_detainers"]["difference"]
    assert difference["mean"] == off.figures["us_citizens_detainers"]
    assert difference["low"] is None  # one seed: no interval


def test_figures_agree_with_what_scomm_simulate_measures(demo: Scenario) -> None:
    """`arm_figures` counts as the scenario report does (whole run, nation)."""
    from scomm.sim.driver import RunSpec, run

    result = run(RunSpec(demo, biometrics="model"), Settings())
    assert result.store is not None
    entries = list(result.store.audit_entries())
    figures = arm_figures(entries, result.world)
    cases = case_facts(RunRecord.of_entries(entries), result.world)
    for name in ("ident_matches", "ice_arrests", "removals"):
        assert figures[name] == measure_figure(name, cases).value, name
    # the release counts the prints CJIS forwarded to IDENT; the scenario report every
    # booking of an activated jurisdiction, those the SIB rejected included
    assert 0 < figures["submissions"] <= measure_figure("submissions", cases).value
    assert figures["detainers_lodged"] == measure_figure("detainers", cases).value
    assert figures["ident_matches"] == sum(
        figures[f"ident_matches_{x}"] for x in ("l1", "l2", "l3", "no_level")
    )
    assert figures["bookings"] + figures["bookings_not_made"] == BOOKINGS


def test_a_trust_act_law_honours_fewer_detainers_on_the_same_matches(demo: Scenario) -> None:
    result = compare(demo, BUILTIN["scenario"], BUILTIN["trust-act"], 1)
    ((before, after),) = result.runs
    assert before.ident_answers == after.ident_answers
    assert after.figures["detainers_lodged"] == before.figures["detainers_lodged"]
    assert after.figures["detainers_honoured"] < before.figures["detainers_honoured"]
    assert after.figures["detainers_declined"] > before.figures["detainers_declined"]


def test_trust_act_is_a_floor_on_every_jurisdictions_strictness(demo: Scenario) -> None:
    world = build_scenario_world(demo)
    changed = BUILTIN["trust-act"].world(world)
    assert changed.bookings is world.bookings and changed.people is world.people
    policies = {p.jurisdiction.ori: p.jurisdiction.detainer_policy for p in changed.jurisdictions}
    assert policies["CA0020000"] is DetainerPolicy.HONOR_NONE  # stricter than the law: kept
    assert policies["CA0010000"] is DetainerPolicy.TRUST_ACT
    assert set(policies.values()) <= {DetainerPolicy.TRUST_ACT, DetainerPolicy.HONOR_NONE}


def test_a_rule_set_in_force_throughout_keeps_the_others_by_name() -> None:
    catalogue = RuleCatalogue.load()
    offense_type = rules_throughout(catalogue, "2009-offense-type")
    for day in (date(2008, 10, 1), date(2011, 6, 1), date(2016, 1, 1)):
        assert offense_type.rule_set_at(day).version == "2009-offense-type"
    assert catalogue.rule_set_at(date(2011, 6, 1)).version == "2011-conviction-based"
    # removals count levels under the conviction-based set by name
    assert offense_type.rule_set_named("2011-conviction-based").version == "2011-conviction-based"
    with pytest.raises(WhatIfError, match="no rule set 'nope'"):
        rules_throughout(catalogue, "nope")


def test_the_rule_sets_change_the_levels_not_the_matches(demo: Scenario) -> None:
    result = compare(demo, BUILTIN["offense-type-rules"], BUILTIN["conviction-rules"], 1)
    ((offense, conviction),) = result.runs
    assert offense.figures["ident_matches"] == conviction.figures["ident_matches"]
    # by offense type every match has a level; by conviction those without one have none
    assert offense.figures["ident_matches_no_level"] == 0
    assert conviction.figures["ident_matches_no_level"] > 0


POLICY_FILE = """
description: Alder County stops honouring detainers, officers detain at level 1 only
safeguards: {status_currency: false}
rule_set: 2011-conviction-based
detainer_law: trust_act
detainer_policies: {CA0010000: honor_none}
switches:
  - {ori: TX0030000, switch: D, enabled: false, from: 2010-06-01, by: jurisdiction,
     reason: board vote}
officer_policy: {detain_levels: [1], level3_detain_rate: 0.1}
"""


def test_a_policy_file_reads_every_override(tmp_path: Path, demo: Scenario) -> None:
    path = tmp_path / "alder-opts-out.yaml"
    path.write_text(POLICY_FILE)
    policy = load_policy(str(path))
    assert policy.name == "alder-opts-out"
    assert policy.safeguards is None and policy.safeguard_changes == {"status_currency": False}
    # the others stay as the scenario has them
    assert policy.settings(Settings(safeguards=Safeguards.all_off())).safeguards == (
        Safeguards.all_off()
    )
    assert policy.settings(Settings()).safeguards == Safeguards(status_currency=False)
    assert policy.rule_set == "2011-conviction-based"
    assert policy.detainer_law is DetainerPolicy.TRUST_ACT
    assert policy.detainer_policies == {"CA0010000": DetainerPolicy.HONOR_NONE}
    (setting,) = policy.switches
    assert (setting.ori, setting.switch, setting.enabled) == (
        "TX0030000",
        Switch.D_HONOUR_DETAINERS,
        False,
    )
    assert setting.effective_from == datetime(2010, 6, 1)
    assert policy.officer_policy is not None and policy.officer_policy.detain_levels == (1,)
    world = policy.world(build_scenario_world(demo))
    alder = world.plan("CA0010000")
    assert alder.jurisdiction.detainer_policy is DetainerPolicy.HONOR_NONE
    assert alder.policy_changes == ()
    assert setting in world.plan("TX0030000").settings


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("safeguards: maybe\n", "safeguards"),
        ("detainer_law: sometimes\n", "detainer_law"),
        ("colour: red\n", "colour"),
        (
            "switches: [{ori: TX0030000, switch: B, enabled: false, from: 2010-01-01, "
            "by: jurisdiction}]\n",
            "switches[0].by",
        ),
    ],
)
def test_a_bad_policy_file_is_refused_naming_the_key(
    tmp_path: Path, text: str, complaint: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(WhatIfError, match=r"bad\.yaml") as caught:
        load_policy(str(path))
    assert complaint in str(caught.value)


def test_a_policy_is_checked_against_the_scenario_before_anything_runs(demo: Scenario) -> None:
    lost = Policy(
        "lost", "a county elsewhere", detainer_policies={"ZZ0010000": DetainerPolicy.HONOR_NONE}
    )
    with pytest.raises(WhatIfError, match="no jurisdiction ZZ0010000"):
        compare(demo, BUILTIN["scenario"], lost, 1)
    with pytest.raises(WhatIfError, match="neither a policy file nor a built-in"):
        load_policy("safeguards-sideways")


def test_the_t_quantile_is_students() -> None:
    from scipy.stats import t

    for df in (*range(1, 40), 50, 99, 1000):
        assert t_quantile_975(df) == pytest.approx(float(t.ppf(0.975, df)), abs=1e-5), df


def test_t_interval_over_seeds() -> None:
    got = t_interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 / math.sqrt(3)  # t(0.975, 2) * s / sqrt(n), s = 1
    assert got.mean == 2.0
    assert got.low == pytest.approx(2.0 - half) and got.high == pytest.approx(2.0 + half)
    assert t_interval([5.0, 5.0]).as_dict() == {"mean": 5.0, "low": 5.0, "high": 5.0}
    assert t_interval([7.0]).as_dict() == {"mean": 7.0, "low": None, "high": None}


def test_the_json_has_the_agreed_shape(safeguards: Comparison) -> None:
    out = safeguards.as_json()
    assert list(out) == ["scenario", "scale", "policies", "seeds", "rows"]
    assert out["policies"] == ["safeguards-on", "safeguards-off"] and out["seeds"] == [1]
    assert [r["measure"] for r in out["rows"]] == [m.name for m in MEASURES]
    for row in out["rows"]:
        assert list(row) == ["measure", "title", "a", "b", "difference"]
        for part in ("a", "b", "difference"):
            assert list(row[part]) == ["mean", "low", "high"]


def test_the_arms_share_the_world_object(demo: Scenario) -> None:
    world: World = build_scenario_world(demo)
    for policy in BUILTIN.values():
        arm = policy.world(world)
        assert arm.people is world.people and arm.dispositions is world.dispositions


RE_ARRESTS = """
schema: 1
scenario: re-arrests
seed: 3
bookings: 40
window: {start: 2010-01-01, end: 2010-07-01}
states:
  - code: TX
    sib_ori: TX0000000
    counties:
      - {ori: TX0010000, name: One County, share: 1.0, activation: 2009-01-01}
population:
  people_per_booking: 0.5
  minimum_people: 20
  citizenship_paths:
    native_citizen: {share: 0.3}
    naturalized: {share: 0.3, ident_record: 1.0, stale: 1.0}
    overstay: {share: 0.4, ident_record: 1.0}
arrests:
  offense_mix: {"5404": 0.5, "1315": 0.5}
officer_policy: {detain_levels: [1, 2, 3]}
"""


def test_where_a_policy_leaves_a_person_in_ice_custody_the_other_bookings_still_match_alike() -> (
    None
):
    """People booked twice: under one policy ICE holds some of them at the later booking,
    which is then not made; every booking both arms make got the same IDENT answer."""
    scenario = parse_scenario(RE_ARRESTS, "re-arrests")
    result = compare(scenario, BUILTIN["safeguards-on"], BUILTIN["safeguards-off"], 2)
    assert sum(c.one_only for c in result.checks) > 0
    assert all(c.ident_differs == 0 for c in result.checks)
    for (a, b), check in zip(result.runs, result.checks, strict=True):
        both = a.bookings & b.bookings
        assert len(both) == check.both > 0
        assert {c: a.ident_answers.get(c) for c in both} == {
            c: b.ident_answers.get(c) for c in both
        }
        assert a.figures["bookings"] + a.figures["bookings_not_made"] == 40
