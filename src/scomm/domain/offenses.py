"""NCIC offense codes (a data file) and the classifier from free-text arrest literals (AOL).

The table is `scomm/rules/ncic_offenses.toml`. A booking's charges reach the FBI only as free
text (EBTS 2.047 ASL / AOL); the IAQ needs a 4-digit NCIC code, so a text-to-code step sits
in the chain (DOMAIN.md §6.1). `classify_literal` is that step: an exact literal or a known
alias, else a keyword vote, else the generic 0399 with confidence 0 (counted by
`OffenseTally`, never dropped).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from scomm.domain.rule_errors import RuleFileError

# The IAQ's OFF field defaults to 0399 when no charge code is known (Nlets IAQ format).
UNKNOWN_OFFENSE_CODE = "0399"
NCIC_TABLE_FILE = "ncic_offenses.toml"

# Confidence of each way a literal can be recognised.
EXACT_CONFIDENCE = 1.0
ALIAS_CONFIDENCE = 0.95
KEYWORD_CONFIDENCE_MAX = 0.8  # a keyword vote is never as sure as a literal the table names


@dataclass(frozen=True)
class Offense:
    """An NCIC Uniform Offense Code with its usual arrest literal."""

    ncic_code: str
    literal: str
    felony: bool

    @property
    def family(self) -> str:
        return self.ncic_code[:2]


@dataclass(frozen=True)
class NcicTable:
    version: str
    offenses: tuple[Offense, ...]
    common: tuple[Offense, ...]  # the usual booking offenses, in the file's order
    families: dict[str, str]
    aliases: dict[str, str]  # normalised literal -> code
    keywords: dict[str, tuple[str, ...]]  # word -> codes
    index: dict[str, Offense]  # code -> offense

    def by_code(self, code: str) -> Offense | None:
        return self.index.get(code)

    def is_felony(self, code: str) -> bool:
        offense = self.index.get(code)
        return offense is not None and offense.felony


def normalise_literal(literal: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else " " for ch in literal.upper())
    return " ".join(cleaned.split())


def parse_ncic_table(text: str, source: str = NCIC_TABLE_FILE) -> NcicTable:
    """Read the table; a malformed file raises RuleFileError naming the file and the entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RuleFileError(source, "", f"not valid TOML: {error}") from error
    version = _get(data, "version", str, source, "")
    families: dict[str, str] = {}
    for i, family in enumerate(_get(data, "family", list, source, "")):
        where = f"family[{i}]"
        prefix = _get(family, "prefix", str, source, where)
        if len(prefix) != 2 or not prefix.isdigit():
            raise RuleFileError(source, where, f"prefix {prefix!r} is not two digits")
        families[prefix] = _get(family, "title", str, source, where)
    offenses: list[Offense] = []
    common: list[Offense] = []
    aliases: dict[str, str] = {}
    keywords: dict[str, list[str]] = {}
    for i, entry in enumerate(_get(data, "offense", list, source, "")):
        where = f"offense[{i}]"
        code = _get(entry, "code", str, source, where)
        if len(code) != 4 or not code.isdigit():
            raise RuleFileError(source, where, f"code {code!r} is not a 4-digit NCIC code")
        if code[:2] not in families:
            raise RuleFileError(source, where, f"code {code} has no family {code[:2]!r}")
        if any(o.ncic_code == code for o in offenses):
            raise RuleFileError(source, where, f"code {code} is listed twice")
        offense = Offense(
            code, _get(entry, "literal", str, source, where), bool(entry.get("felony"))
        )
        if not isinstance(entry.get("felony"), bool):
            raise RuleFileError(source, where, "felony must be true or false")
        offenses.append(offense)
        if entry.get("common", False):
            common.append(offense)
        for alias in [offense.literal, *entry.get("aliases", [])]:
            key = normalise_literal(alias)
            if key in aliases and aliases[key] != code:
                raise RuleFileError(
                    source, where, f"literal {alias!r} already names {aliases[key]}"
                )
            aliases[key] = code
        for word in entry.get("keywords", []):
            keywords.setdefault(normalise_literal(word), []).append(code)
    if not any(o.ncic_code == UNKNOWN_OFFENSE_CODE for o in offenses):
        raise RuleFileError(
            source, "offense", f"the generic code {UNKNOWN_OFFENSE_CODE} is missing"
        )
    return NcicTable(
        version=version,
        offenses=tuple(offenses),
        common=tuple(common),
        families=families,
        aliases=aliases,
        keywords={w: tuple(c) for w, c in keywords.items()},
        index={o.ncic_code: o for o in offenses},
    )


def _get(data: Any, key: str, kind: type, source: str, where: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise RuleFileError(source, where, f"missing {key!r}")
    value = data[key]
    if not isinstance(value, kind):
        raise RuleFileError(source, where, f"{key!r} must be a {kind.__name__}")
    return value


def load_ncic_table() -> NcicTable:
    """The table as the package's data file holds it, read afresh each call: whoever builds
    the system keeps the one it read (`RuleCatalogue.load`)."""
    text = files("scomm.rules").joinpath(NCIC_TABLE_FILE).read_text(encoding="utf-8")
    return parse_ncic_table(text)


@dataclass(frozen=True)
class Classification:
    ncic_code: str
    confidence: float
    method: str = "exact"  # exact | alias | keywords | unknown

    @property
    def unknown(self) -> bool:
        return self.method == "unknown"


def classify_literal(literal: str, table: NcicTable) -> Classification:
    """Map an arrest offense literal to an NCIC code with a confidence in [0, 1].

    Exact literal (1.0) or alias (0.95) from the table; else every table keyword found among
    the literal's words votes for its codes, and the code with most votes wins with
    confidence 0.8 * votes / (votes + rivals' votes + 1) per word of the literal matched;
    nothing matched (or a tie): 0399 with confidence 0.
    """
    key = normalise_literal(literal)
    code = table.aliases.get(key)
    if code is not None:
        exact = normalise_literal(table.by_code(code).literal) == key  # type: ignore[union-attr]
        if exact:
            return Classification(code, EXACT_CONFIDENCE, "exact")
        return Classification(code, ALIAS_CONFIDENCE, "alias")
    words = key.split()
    votes: Counter[str] = Counter()
    for word in words:
        for voted in table.keywords.get(word, ()):
            votes[voted] += 1
    if not votes:
        return Classification(UNKNOWN_OFFENSE_CODE, 0.0, "unknown")
    ranked = votes.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return Classification(UNKNOWN_OFFENSE_CODE, 0.0, "unknown")
    best, count = ranked[0]
    others = sum(n for c, n in ranked[1:])
    coverage = count / len(words)
    confidence = KEYWORD_CONFIDENCE_MAX * coverage * count / (count + others)
    return Classification(best, round(confidence, 3), "keywords")


@dataclass
class OffenseTally:
    """Classifies literals with `table`, counting them by method; the unknown literals are
    kept, never dropped."""

    table: NcicTable
    by_method: Counter[str] = field(default_factory=Counter)
    unknown_literals: Counter[str] = field(default_factory=Counter)

    def classify(self, literal: str) -> Classification:
        result = classify_literal(literal, self.table)
        self.by_method[result.method] += 1
        if result.unknown:
            self.unknown_literals[normalise_literal(literal)] += 1
        return result


def code_matches(ncic_code: str, patterns: tuple[str, ...]) -> bool:
    """True when the code is one of `patterns` (4-digit codes or 2-digit families)."""
    return any(ncic_code.startswith(p) for p in patterns)
