"""The rule catalogue is a value: what it decides comes from the tables it holds."""

from __future__ import annotations

import dataclasses
from datetime import date

from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.levels import CriminalFacts, determine, load_rule_sets, rule_set_at
from scomm.domain.offenses import Offense, classify_literal, load_ncic_table


def test_the_loaded_catalogue_decides_as_the_package_tables_do() -> None:
    rules = RuleCatalogue.load()
    table, rule_sets = load_ncic_table(), load_rule_sets()
    assert rules == RuleCatalogue(table, rule_sets)
    day = date(2011, 6, 1)
    in_force = rule_set_at(day, rule_sets)
    assert rules.rule_set_at(day) == in_force
    facts = CriminalFacts(charges=("1299",), convictions=("2399",), recorded_status="overstay")
    assert rules.determine(rules.rule_set_at(day), facts) == determine(in_force, facts, table)
    assert rules.classify("BURGLARY") == classify_literal("BURGLARY", table)
    assert rules.level_2009(["1299", "5404"]) == 1


def test_a_catalogue_with_another_table_decides_by_that_table() -> None:
    """Petty theft made a felony in one catalogue only: one felony conviction is level 2
    under the 2011 rules there, and stays a level 3 misdemeanor in the package's."""
    rules = RuleCatalogue.load()
    theft = rules.ncic.index["2399"]
    assert not theft.felony
    felony = Offense(theft.ncic_code, theft.literal, felony=True)
    other = dataclasses.replace(
        rules, ncic=dataclasses.replace(rules.ncic, index={**rules.ncic.index, "2399": felony})
    )
    facts = CriminalFacts(charges=(), convictions=("2399",), recorded_status="visa_overstay")
    day = date(2011, 6, 1)
    assert other.is_felony("2399") and not rules.is_felony("2399")
    assert other.determine(other.rule_set_at(day), facts).level == 2
    assert rules.determine(rules.rule_set_at(day), facts).level == 3
