"""The rule catalogue: the NCIC offense table and the dated rule sets, as one value that
whoever builds the system (`scomm.system`, the simulator's world builder) loads and hands on.
There is no process-wide copy: the functions of `offenses` and `levels` take the table and
the rule sets they apply as arguments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from scomm.domain.levels import (
    RULE_SET_2009,
    CriminalFacts,
    LevelDetermination,
    OffenseTypeRules,
    RuleSet,
    determine,
    level_2009,
    load_rule_sets,
    offense_level,
    rule_set_at,
    rule_set_named,
)
from scomm.domain.offenses import (
    Classification,
    NcicTable,
    Offense,
    OffenseTally,
    classify_literal,
    load_ncic_table,
)


@dataclass(frozen=True)
class RuleCatalogue:
    """What LESC and CJIS apply: `classify` an arrest literal, the rule set in force on a day,
    the level it gives, the 2009 offense-type level of a code; and the offenses by code."""

    ncic: NcicTable
    rule_sets: tuple[RuleSet, ...]

    @classmethod
    def load(cls) -> RuleCatalogue:
        """The catalogue the package's data files hold (`scomm/rules/`)."""
        return cls(load_ncic_table(), load_rule_sets())

    def classify(self, literal: str) -> Classification:
        return classify_literal(literal, self.ncic)

    def tally(self) -> OffenseTally:
        """A fresh count of classifications by method, with this catalogue's table."""
        return OffenseTally(self.ncic)

    def offense(self, ncic_code: str) -> Offense | None:
        """The table's offense with this NCIC code (None: the table has no such code)."""
        return self.ncic.by_code(ncic_code)

    @property
    def common_offenses(self) -> tuple[Offense, ...]:
        """The usual booking offenses, in the data file's order (the synthetic world draws
        from them)."""
        return self.ncic.common

    def is_felony(self, ncic_code: str) -> bool:
        return self.ncic.is_felony(ncic_code)

    def rule_set_at(self, when: date | datetime) -> RuleSet:
        return rule_set_at(when, self.rule_sets)

    def rule_set_named(self, version: str) -> RuleSet:
        return rule_set_named(version, self.rule_sets)

    def determine(self, rule_set: RuleSet, facts: CriminalFacts) -> LevelDetermination:
        return determine(rule_set, facts, self.ncic)

    def offense_level(self, ncic_code: str) -> int:
        """The 2009 offense-type level of one code (1 is most serious)."""
        return offense_level(ncic_code, self._offense_type(), self.ncic)

    def level_2009(self, ncic_codes: Iterable[str]) -> int:
        """The most serious 2009 level among charges and convictions."""
        return level_2009(ncic_codes, self._offense_type(), self.ncic)

    def _offense_type(self) -> OffenseTypeRules:
        rules = self.rule_set_named(RULE_SET_2009).offense_type
        assert rules is not None  # the 2009 rule set is the offense-type method
        return rules
