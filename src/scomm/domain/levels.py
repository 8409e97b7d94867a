"""Priority levels by versioned rule sets: data files with effective dates (DOMAIN.md §2).

Each rule set is a TOML file in `scomm/rules/` (`levels_2009_offense_type.toml`,
`levels_2011_conviction_based.toml`, `detainers_2012_criteria.toml`,
`priorities_2014_pep.toml`): a `[rule_set]` header (version, effective_from, effective_to
exclusive, method) and the method's parameters. `rule_set_at(day, rule_sets)` picks the one
in force; `determine(rule_set, facts, table)` gives the level (1 most serious; 0 = no level:
"non-criminal" under conviction-based rules, "not a priority" under PEP), whether the
detainer criteria allow a detainer, and whether a hold (not only a notification) may be
asked. Every IAR and detainer records the rule set's version. The rule sets and the NCIC
table are arguments, never module state: `RuleCatalogue` holds the ones a system applies.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from importlib.resources import files
from typing import Any

from scomm.domain.errors import DomainError
from scomm.domain.offenses import NcicTable, code_matches
from scomm.domain.rule_errors import RuleFileError

RULE_SET_FILES = (
    "levels_2009_offense_type.toml",
    "levels_2011_conviction_based.toml",
    "detainers_2012_criteria.toml",
    "priorities_2014_pep.toml",
)
METHODS = ("offense_type", "conviction_based", "pep")
NO_LEVEL = 0

RULE_SET_2009 = "2009-offense-type"  # kept: the version name of the first rule set


class NoRuleSetInForce(DomainError, LookupError):
    pass


@dataclass(frozen=True)
class OffenseTypeRules:
    default_level: int
    families: dict[str, int]
    by_grade: dict[str, tuple[int, int]]  # family -> (felony level, misdemeanor level)


@dataclass(frozen=True)
class ConvictionRules:
    aggravated_felony: tuple[str, ...]
    level1_min_felonies: int
    level2_min_felonies: int
    level2_min_misdemeanors: int
    level3_min_misdemeanors: int


@dataclass(frozen=True)
class PepRules:
    aggravated_felony: tuple[str, ...]
    priority2_min_misdemeanors: int
    priority2_not_counted: tuple[str, ...]
    priority2_significant: tuple[str, ...]
    priority3_statuses: tuple[str, ...]
    hold_priorities: tuple[int, ...]


@dataclass(frozen=True)
class DetainerCriteria:
    felony_conviction: bool
    pending_felony_charge: bool
    min_misdemeanor_convictions: int
    listed_offenses: tuple[str, ...]
    listed_offense_charged_counts: bool
    statuses: tuple[str, ...]


@dataclass(frozen=True)
class RuleSet:
    version: str
    title: str
    effective_from: date
    effective_to: date | None  # exclusive; None: still in force
    method: str
    offense_type: OffenseTypeRules | None = None
    conviction_based: ConvictionRules | None = None
    pep: PepRules | None = None
    detainer_criteria: DetainerCriteria | None = None

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


@dataclass(frozen=True)
class CriminalFacts:
    """What LESC knows when it answers: NCIC codes of the pending charges (this booking and
    other arrests without a conviction), of the convictions, and the recorded status."""

    charges: tuple[str, ...] = ()
    convictions: tuple[str, ...] = ()
    recorded_status: str | None = None


@dataclass(frozen=True)
class LevelDetermination:
    level: int
    rule_set: str
    basis: str
    detainer_allowed: bool  # the rule set's detainer criteria (True where it has none)
    hold_allowed: bool  # a hold may be asked, not only a notification (PEP: I-247D vs N)


# -- reading the files --


def parse_rule_set(text: str, source: str) -> RuleSet:
    """One rule-set file; a malformed one raises RuleFileError naming file, entry and fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RuleFileError(source, "", f"not valid TOML: {error}") from error
    head = _table(data, "rule_set", source)
    version = _field(head, "version", str, source, "rule_set")
    start = _field(head, "effective_from", date, source, "rule_set")
    end = head.get("effective_to")
    if end is not None and not isinstance(end, date):
        raise RuleFileError(source, "rule_set.effective_to", "must be a date")
    if end is not None and end <= start:
        raise RuleFileError(source, "rule_set.effective_to", "must come after effective_from")
    method = _field(head, "method", str, source, "rule_set")
    if method not in METHODS:
        raise RuleFileError(source, "rule_set.method", f"{method!r} is not one of {METHODS}")
    rule_set = RuleSet(
        version=version,
        title=_field(head, "title", str, source, "rule_set"),
        effective_from=start,
        effective_to=end,
        method=method,
    )
    body = _table(data, method, source)
    params: dict[str, Any] = {}
    if method == "offense_type":
        families = _field(body, "families", dict, source, method)
        grades = _field(body, "by_grade", dict, source, method)
        for family, level in families.items():
            _check_level(level, source, f"{method}.families.{family}")
        for family, pair in grades.items():
            if not (isinstance(pair, list) and len(pair) == 2):
                raise RuleFileError(source, f"{method}.by_grade.{family}", "needs [felony, other]")
            for level in pair:
                _check_level(level, source, f"{method}.by_grade.{family}")
        params["offense_type"] = OffenseTypeRules(
            default_level=_check_level(
                _field(body, "default_level", int, source, method), source, method
            ),
            families=dict(families),
            by_grade={f: (p[0], p[1]) for f, p in grades.items()},
        )
    elif method == "conviction_based":
        params["conviction_based"] = ConvictionRules(
            aggravated_felony=_codes(body, "aggravated_felony", source, method),
            level1_min_felonies=_count(body, "level1_min_felonies", source, method),
            level2_min_felonies=_count(body, "level2_min_felonies", source, method),
            level2_min_misdemeanors=_count(body, "level2_min_misdemeanors", source, method),
            level3_min_misdemeanors=_count(body, "level3_min_misdemeanors", source, method),
        )
    else:
        holds = _field(body, "hold_priorities", list, source, method)
        params["pep"] = PepRules(
            aggravated_felony=_codes(body, "aggravated_felony", source, method),
            priority2_min_misdemeanors=_count(body, "priority2_min_misdemeanors", source, method),
            priority2_not_counted=_codes(body, "priority2_not_counted", source, method),
            priority2_significant=_codes(body, "priority2_significant", source, method),
            priority3_statuses=tuple(_field(body, "priority3_statuses", list, source, method)),
            hold_priorities=tuple(_check_level(p, source, method) for p in holds),
        )
    if "detainer_criteria" in data:
        crit = _table(data, "detainer_criteria", source)
        where = "detainer_criteria"
        params["detainer_criteria"] = DetainerCriteria(
            felony_conviction=_field(crit, "felony_conviction", bool, source, where),
            pending_felony_charge=_field(crit, "pending_felony_charge", bool, source, where),
            min_misdemeanor_convictions=_count(crit, "min_misdemeanor_convictions", source, where),
            listed_offenses=_codes(crit, "listed_offenses", source, where),
            listed_offense_charged_counts=_field(
                crit, "listed_offense_charged_counts", bool, source, where
            ),
            statuses=tuple(_field(crit, "statuses", list, source, where)),
        )
    return RuleSet(**{**rule_set.__dict__, **params})


def _table(data: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise RuleFileError(source, key, f"missing table [{key}]")
    return value


def _field(data: dict[str, Any], key: str, kind: type, source: str, where: str) -> Any:
    if key not in data:
        raise RuleFileError(source, f"{where}.{key}", "missing")
    value = data[key]
    if kind is date and isinstance(value, datetime):
        raise RuleFileError(source, f"{where}.{key}", "must be a date, not a date-time")
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RuleFileError(source, f"{where}.{key}", f"must be a {kind.__name__}")
    return value


def _check_level(level: object, source: str, where: str) -> int:
    if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 3:
        raise RuleFileError(source, where, f"level {level!r} is not 1, 2 or 3")
    return level


def _count(data: dict[str, Any], key: str, source: str, where: str) -> int:
    value: int = _field(data, key, int, source, where)
    if value < 0:
        raise RuleFileError(source, f"{where}.{key}", "must not be negative")
    return value


def _codes(data: dict[str, Any], key: str, source: str, where: str) -> tuple[str, ...]:
    values = _field(data, key, list, source, where)
    for value in values:
        if not (isinstance(value, str) and value.isdigit() and len(value) in (2, 4)):
            raise RuleFileError(
                source, f"{where}.{key}", f"{value!r} is not an NCIC code or family"
            )
    return tuple(values)


def check_catalogue(rule_sets: Iterable[RuleSet]) -> tuple[RuleSet, ...]:
    """Sorted by date; versions unique; periods neither overlap nor leave a gap."""
    ordered = tuple(sorted(rule_sets, key=lambda r: r.effective_from))
    versions = [r.version for r in ordered]
    if len(set(versions)) != len(versions):
        raise RuleFileError("rule sets", "version", f"a version appears twice: {versions}")
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if earlier.effective_to is None or earlier.effective_to != later.effective_from:
            raise RuleFileError(
                "rule sets",
                later.version,
                f"starts {later.effective_from} but {earlier.version} ends "
                f"{earlier.effective_to}: periods must meet exactly",
            )
    return ordered


def load_rule_sets() -> tuple[RuleSet, ...]:
    """The package's rule sets, read afresh each call and checked: whoever builds the system
    keeps the ones it read (`RuleCatalogue.load`)."""
    folder = files("scomm.rules")
    return check_catalogue(
        parse_rule_set(folder.joinpath(name).read_text(encoding="utf-8"), name)
        for name in RULE_SET_FILES
    )


def rule_set_at(when: date | datetime, rule_sets: Iterable[RuleSet]) -> RuleSet:
    """The one of `rule_sets` in force on the day of `when`."""
    day = when.date() if isinstance(when, datetime) else when
    for rule_set in rule_sets:
        if rule_set.in_force(day):
            return rule_set
    raise NoRuleSetInForce(f"no rule set in force on {day.isoformat()}")


def rule_set_named(version: str, rule_sets: Iterable[RuleSet]) -> RuleSet:
    for rule_set in rule_sets:
        if rule_set.version == version:
            return rule_set
    raise NoRuleSetInForce(f"no rule set {version!r}")


# -- applying them --


def determine(rule_set: RuleSet, facts: CriminalFacts, table: NcicTable) -> LevelDetermination:
    """The level under `rule_set`; `table` (the NCIC table) says which codes are felonies."""
    if rule_set.offense_type is not None:
        level, basis = _offense_type(rule_set.offense_type, facts, table)
        hold = True
    elif rule_set.conviction_based is not None:
        level, basis = _conviction_based(rule_set.conviction_based, facts, table)
        hold = True
    elif rule_set.pep is not None:
        level, basis = _pep(rule_set.pep, facts, table)
        hold = level in rule_set.pep.hold_priorities and bool(facts.convictions)
    else:  # parse_rule_set never builds one
        raise ValueError(f"rule set {rule_set.version} has no method")
    allowed, why = True, ""
    if rule_set.detainer_criteria is not None:
        allowed, why = _detainer_criteria(rule_set.detainer_criteria, facts, table)
        basis = f"{basis}; detainer criteria: {why}"
    if rule_set.pep is not None:
        allowed = level != NO_LEVEL
    return LevelDetermination(level, rule_set.version, basis, allowed, hold and allowed)


def offense_level(ncic_code: str, rules: OffenseTypeRules, table: NcicTable) -> int:
    """The offense-type level (2009) of one code under `rules` (1 is most serious)."""
    family = ncic_code[:2]
    if family in rules.by_grade:
        felony_level, other_level = rules.by_grade[family]
        return felony_level if table.is_felony(ncic_code) else other_level
    return rules.families.get(family, rules.default_level)


def level_2009(ncic_codes: Iterable[str], rules: OffenseTypeRules, table: NcicTable) -> int:
    """The most serious 2009 level among charges and convictions (1 is most serious)."""
    return min((offense_level(code, rules, table) for code in ncic_codes), default=3)


def _offense_type(
    rules: OffenseTypeRules, facts: CriminalFacts, table: NcicTable
) -> tuple[int, str]:
    codes = (*facts.charges, *facts.convictions)
    if not codes:
        return rules.default_level, "no charge or conviction known"
    worst = min(codes, key=lambda c: offense_level(c, rules, table))
    return offense_level(worst, rules, table), f"most serious charge or conviction {worst}"


def _split(codes: Iterable[str], table: NcicTable) -> tuple[list[str], list[str]]:
    felonies: list[str] = []
    misdemeanors: list[str] = []
    for code in codes:
        (felonies if table.is_felony(code) else misdemeanors).append(code)
    return felonies, misdemeanors


def _conviction_based(
    rules: ConvictionRules, facts: CriminalFacts, table: NcicTable
) -> tuple[int, str]:
    felonies, misdemeanors = _split(facts.convictions, table)
    aggravated = [c for c in felonies if code_matches(c, rules.aggravated_felony)]
    if aggravated:
        return 1, f"aggravated felony conviction {aggravated[0]}"
    if len(felonies) >= max(rules.level1_min_felonies, 1):
        return 1, f"{len(felonies)} felony convictions"
    if len(felonies) >= max(rules.level2_min_felonies, 1):
        return 2, "felony conviction"
    if len(misdemeanors) >= max(rules.level2_min_misdemeanors, 1):
        return 2, f"{len(misdemeanors)} misdemeanor convictions"
    if len(misdemeanors) >= max(rules.level3_min_misdemeanors, 1):
        return 3, f"{len(misdemeanors)} misdemeanor conviction(s)"
    return NO_LEVEL, "no conviction: non-criminal"


def _pep(rules: PepRules, facts: CriminalFacts, table: NcicTable) -> tuple[int, str]:
    felonies, misdemeanors = _split(facts.convictions, table)
    if felonies:
        aggravated = any(code_matches(c, rules.aggravated_felony) for c in felonies)
        return 1, "aggravated felony conviction" if aggravated else "felony conviction"
    significant = [c for c in misdemeanors if code_matches(c, rules.priority2_significant)]
    if significant:
        return 2, f"significant misdemeanor {significant[0]}"
    counted = [c for c in misdemeanors if not code_matches(c, rules.priority2_not_counted)]
    if len(counted) >= max(rules.priority2_min_misdemeanors, 1):
        return 2, f"{len(counted)} misdemeanors"
    if facts.recorded_status in rules.priority3_statuses:
        return 3, f"final order of removal ({facts.recorded_status})"
    return NO_LEVEL, "not a priority"


def _detainer_criteria(
    crit: DetainerCriteria, facts: CriminalFacts, table: NcicTable
) -> tuple[bool, str]:
    felonies, misdemeanors = _split(facts.convictions, table)
    if crit.felony_conviction and felonies:
        return True, "felony conviction"
    if crit.pending_felony_charge and any(table.is_felony(c) for c in facts.charges):
        return True, "pending felony charge"
    if crit.min_misdemeanor_convictions and len(misdemeanors) >= crit.min_misdemeanor_convictions:
        return True, f"{len(misdemeanors)} misdemeanor convictions"
    listed = [c for c in facts.convictions if code_matches(c, crit.listed_offenses)]
    if crit.listed_offense_charged_counts:
        listed += [c for c in facts.charges if code_matches(c, crit.listed_offenses)]
    if listed:
        return True, f"listed offense {listed[0]}"
    if facts.recorded_status in crit.statuses:
        return True, f"immigration record: {facts.recorded_status}"
    return False, "none met"
