"""Rule sets as data: selection by date, each method, and clear errors for malformed files."""

from __future__ import annotations

from datetime import date, datetime
from importlib.resources import files

import pytest

from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.levels import (
    RULE_SET_FILES,
    CriminalFacts,
    NoRuleSetInForce,
    check_catalogue,
    determine,
    load_rule_sets,
    parse_rule_set,
    rule_set_at,
)
from scomm.domain.rule_errors import RuleFileError


def text_of(name: str) -> str:
    return files("scomm.rules").joinpath(name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("day", "version"),
    [
        (date(2008, 10, 27), "2009-offense-type"),
        (date(2010, 6, 29), "2009-offense-type"),
        (date(2010, 6, 30), "2011-conviction-based"),  # effective_to is exclusive
        (date(2012, 12, 20), "2011-conviction-based"),
        (date(2012, 12, 21), "2012-detainer-criteria"),
        (date(2015, 1, 5), "2014-pep-priorities"),
        (datetime(2030, 1, 1, 12), "2014-pep-priorities"),
    ],
)
def test_the_rule_set_in_force_is_chosen_by_date(
    day: date, version: str, catalogue: RuleCatalogue
) -> None:
    assert rule_set_at(day, catalogue.rule_sets).version == version


def test_before_the_program_no_rule_set_is_in_force(catalogue: RuleCatalogue) -> None:
    with pytest.raises(NoRuleSetInForce, match="2007-01-01"):
        rule_set_at(date(2007, 1, 1), catalogue.rule_sets)


def test_the_catalogue_covers_every_day_from_its_start_without_overlap() -> None:
    catalogue = load_rule_sets()
    assert [r.version for r in catalogue] == [
        "2009-offense-type",
        "2011-conviction-based",
        "2012-detainer-criteria",
        "2014-pep-priorities",
    ]
    for earlier, later in zip(catalogue, catalogue[1:], strict=False):
        assert earlier.effective_to == later.effective_from


def test_2009_levels_count_charges_as_much_as_convictions(catalogue: RuleCatalogue) -> None:
    rules = rule_set_at(date(2009, 6, 1), catalogue.rule_sets)
    table = catalogue.ncic
    assert determine(rules, CriminalFacts(charges=("1299",)), table).level == 1  # robbery charged
    assert determine(rules, CriminalFacts(charges=("3562",)), table).level == 2  # minor drugs
    assert determine(rules, CriminalFacts(charges=("1313",)), table).level == 3  # simple assault
    assert determine(rules, CriminalFacts(charges=("5404", "2399")), table).level == 2


def test_conviction_based_levels_ignore_charges(catalogue: RuleCatalogue) -> None:
    rules = rule_set_at(date(2011, 6, 1), catalogue.rule_sets)
    table = catalogue.ncic
    assert determine(rules, CriminalFacts(charges=("0999",)), table).level == 0  # charged only
    one_felony = CriminalFacts(convictions=("2299",))  # burglary: a felony, not aggravated
    assert determine(rules, one_felony, table).level == 2
    assert determine(rules, CriminalFacts(convictions=("2299", "2404")), table).level == 1
    assert determine(rules, CriminalFacts(convictions=("1299",)), table).level == 1  # aggravated
    assert determine(rules, CriminalFacts(convictions=("2399", "5311", "5499")), table).level == 2
    assert determine(rules, CriminalFacts(convictions=("5499",)), table).level == 3


def test_december_2012_criteria_decide_whether_a_detainer_may_be_lodged(
    catalogue: RuleCatalogue,
) -> None:
    rules = rule_set_at(date(2013, 6, 1), catalogue.rule_sets)
    table = catalogue.ncic
    traffic = determine(rules, CriminalFacts(charges=("5499",), convictions=("2399",)), table)
    assert traffic.level == 3 and not traffic.detainer_allowed
    dui = determine(rules, CriminalFacts(charges=("5404",)), table)  # a listed offense, charged
    assert dui.detainer_allowed
    felony_charge = determine(rules, CriminalFacts(charges=("2299",)), table)
    assert felony_charge.detainer_allowed and "pending felony charge" in felony_charge.basis
    removed = determine(rules, CriminalFacts(recorded_status="previously_removed"), table)
    assert removed.detainer_allowed


def test_pep_priorities_and_the_hold_rule(catalogue: RuleCatalogue) -> None:
    rules = rule_set_at(date(2016, 1, 1), catalogue.rule_sets)
    table = catalogue.ncic
    felon = determine(rules, CriminalFacts(convictions=("2299",)), table)
    assert (felon.level, felon.hold_allowed) == (1, True)
    dui = determine(rules, CriminalFacts(convictions=("5404",)), table)  # significant misdemeanor
    assert (dui.level, dui.hold_allowed) == (2, True)
    three_traffic = determine(rules, CriminalFacts(convictions=("5499", "5499", "5499")), table)
    assert three_traffic.level == 0  # minor traffic does not count
    order = determine(rules, CriminalFacts(recorded_status="previously_removed"), table)
    assert (order.level, order.detainer_allowed, order.hold_allowed) == (3, True, False)
    nobody = determine(rules, CriminalFacts(charges=("0999",)), table)
    assert (nobody.level, nobody.detainer_allowed) == (0, False)


def test_every_shipped_file_parses() -> None:
    for name in RULE_SET_FILES:
        assert parse_rule_set(text_of(name), name).version


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('method = "offense_type"', 'method = "astrology"', "rule_set.method"),
        ("effective_from = 2008-01-01", "effective_from = 2011-01-01", "rule_set.effective_to"),
        ("effective_from = 2008-01-01", "effective_from = 2008-01-01T10:00:00", "effective_from"),
        ('"01" = 1,', '"01" = 4,', "offense_type.families.01"),
        ('"13" = [1, 3]', '"13" = [1]', "offense_type.by_grade.13"),
        ("default_level = 3", 'default_level = "three"', "offense_type.default_level"),
        ("[offense_type]", "[offense_kind]", "offense_type"),
        ("version = ", "versio = ", "rule_set.version"),
        ("[rule_set]", "[rule_set", ""),
    ],
)
def test_a_malformed_rule_file_names_the_file_and_the_entry(old: str, new: str, where: str) -> None:
    name = "levels_2009_offense_type.toml"
    text = text_of(name)
    assert old in text
    with pytest.raises(RuleFileError) as caught:
        parse_rule_set(text.replace(old, new, 1), name)
    assert caught.value.source == name
    assert where in caught.value.where


def test_a_malformed_code_list_is_refused() -> None:
    name = "levels_2011_conviction_based.toml"
    text = text_of(name).replace('"1315"', '"13X5"')
    with pytest.raises(RuleFileError, match="aggravated_felony.*13X5"):
        parse_rule_set(text, name)


def test_a_gap_or_overlap_between_rule_sets_is_refused() -> None:
    first = parse_rule_set(text_of(RULE_SET_FILES[0]), RULE_SET_FILES[0])
    second = parse_rule_set(
        text_of(RULE_SET_FILES[1]).replace(
            "effective_from = 2010-06-30", "effective_from = 2010-07-01"
        ),
        RULE_SET_FILES[1],
    )
    with pytest.raises(RuleFileError, match="must meet exactly"):
        check_catalogue([first, second])
    with pytest.raises(RuleFileError, match="twice"):
        check_catalogue([first, first])
