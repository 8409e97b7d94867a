from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.immigration import RecordedStatus, Removability, removability
from scomm.domain.levels import RULE_SET_2009, level_2009, offense_level, rule_set_named
from scomm.domain.offenses import UNKNOWN_OFFENSE_CODE, classify_literal
from scomm.domain.policies import (
    DetainerPolicy,
    OfficerAction,
    SimulatedOfficerPolicy,
    apply_detainer_policy,
)


def test_literal_classification_and_unknown_default(catalogue: RuleCatalogue) -> None:
    table = catalogue.ncic
    assert classify_literal("driving under influence", table).ncic_code == "5404"
    assert classify_literal("Driving-Under  Influence", table).confidence == 1.0
    unknown = classify_literal("FTA WARRANT", table)
    assert unknown.ncic_code == UNKNOWN_OFFENSE_CODE and unknown.confidence == 0.0


def test_offense_type_levels(catalogue: RuleCatalogue) -> None:
    rules = rule_set_named(RULE_SET_2009, catalogue.rule_sets).offense_type
    assert rules is not None
    table = catalogue.ncic
    assert offense_level("0999", rules, table) == 1  # homicide
    assert offense_level("1315", rules, table) == 1  # aggravated assault
    assert offense_level("1313", rules, table) == 3  # simple assault
    assert offense_level("3530", rules, table) == 1  # drug distribution (felony)
    assert offense_level("3562", rules, table) == 2  # possession
    assert offense_level("2299", rules, table) == 2  # burglary
    assert offense_level("5404", rules, table) == 3  # DUI
    assert level_2009(["5404", "2399"], rules, table) == 2
    assert level_2009([], rules, table) == 3
    assert catalogue.offense_level("3530") == 1 and catalogue.level_2009(["5404", "2399"]) == 2


def test_removability_follows_the_recorded_status() -> None:
    assert removability(RecordedStatus.VISA_OVERSTAY, 3) is Removability.REMOVABLE
    assert removability(RecordedStatus.NATURALIZED_CITIZEN, 1) is Removability.NOT_REMOVABLE
    assert removability(RecordedStatus.LAWFUL_PERMANENT_RESIDENT, 3) is Removability.NOT_REMOVABLE
    assert removability(RecordedStatus.LAWFUL_PERMANENT_RESIDENT, 1) is Removability.REMOVABLE


def test_detainer_policies() -> None:
    assert apply_detainer_policy(DetainerPolicy.HONOR_ALL, True, 3).honour
    assert not apply_detainer_policy(DetainerPolicy.HONOR_ALL, False, 1).honour
    assert not apply_detainer_policy(DetainerPolicy.HONOR_NONE, True, 1).honour
    assert apply_detainer_policy(DetainerPolicy.TRUST_ACT, True, 1).honour
    assert not apply_detainer_policy(DetainerPolicy.TRUST_ACT, True, 3).honour


def test_simulated_officer_says_it_is_simulated() -> None:
    policy = SimulatedOfficerPolicy(level3_detain_rate=0.5)
    detain = policy.decide(Removability.REMOVABLE, 1, draw=0.99)
    assert detain.action is OfficerAction.LODGE_DETAINER
    assert detain.decided_by == "simulated:sim-officer-v1"
    assert policy.decide(Removability.REMOVABLE, 3, 0.2).action is OfficerAction.LODGE_DETAINER
    notify = policy.decide(Removability.REMOVABLE, 3, 0.8)
    assert notify.action is OfficerAction.REQUEST_NOTIFICATION
    assert policy.decide(Removability.NOT_REMOVABLE, 1, 0.0).action is OfficerAction.NO_ACTION


def test_simulated_officer_leaves_a_possible_citizen_alone() -> None:
    policy = SimulatedOfficerPolicy()
    decision = policy.decide(Removability.STATUS_UNRESOLVED, 1, draw=0.0)
    assert decision.action is OfficerAction.NO_ACTION
    assert "possible citizen" in decision.reason


def test_simulated_officer_follows_the_rule_set_criteria() -> None:
    policy = SimulatedOfficerPolicy()
    barred = policy.decide(Removability.REMOVABLE, 1, 0.0, detainer_allowed=False)
    assert barred.action is OfficerAction.NO_ACTION
    no_hold = policy.decide(Removability.REMOVABLE, 1, 0.0, hold_allowed=False)
    assert no_hold.action is OfficerAction.REQUEST_NOTIFICATION
    assert "no hold" in no_hold.reason


def test_a_benefit_after_the_last_encounter_shows_the_status_is_stale() -> None:
    from datetime import datetime

    from scomm.domain.immigration import BenefitKind, BenefitRecord, status_change_since

    older = BenefitRecord("A12345678", BenefitKind.ADJUSTMENT_OF_STATUS, datetime(2001, 1, 1))
    newer = BenefitRecord("A12345678", BenefitKind.NATURALIZATION, datetime(2008, 1, 1))
    derived = BenefitRecord("A12345678", BenefitKind.DERIVED_CITIZENSHIP, datetime(2009, 1, 1))
    assert status_change_since(datetime(2005, 1, 1), [older, derived, newer]) == newer
    assert status_change_since(datetime(2010, 1, 1), [older, newer]) is None
    assert status_change_since(None, [newer, older]) == older


def test_simulated_officer_decides_on_the_charges_not_the_priority_level() -> None:
    policy = SimulatedOfficerPolicy(level3_detain_rate=0.5)
    # no conviction (level 0 under conviction-based rules) but a level-1 charge: detained
    charged = policy.decide(Removability.REMOVABLE, 0, 0.9, severity=1)
    assert charged.action is OfficerAction.LODGE_DETAINER
    minor = policy.decide(Removability.REMOVABLE, 0, 0.9, severity=3)
    assert minor.action is OfficerAction.REQUEST_NOTIFICATION
