"""A scenario run against the world's ground truth and the published figures it targets.

What the run did is read from its audit record alone (`RunRecord.read`: bookings, switch
settings, searches and their answers, case states, custody, detainers), as
`scomm.reports.summary` reads it; who each person really is (a citizen? convicted?) only
the synthetic world knows. Removals happen in the flow (ICE custody, proceedings, the
order carried out: `scomm.services.removals`); the `case_state` REMOVED entry of each
names the level of the convictions ICE knew that day under the conviction-based rule set,
and `measure` counts removals from those entries: by level, and by the month they happened.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from scomm.bus.memory import MemoryEntry, database_entries
from scomm.domain.ids import derived_id
from scomm.domain.messages import DispositionOutcome
from scomm.domain.removals import REMOVAL_LEVELS
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting, switch_is_on
from scomm.sim.synth.population import Person
from scomm.sim.synth.scenario import Target
from scomm.sim.synth.world import World

Z95 = 1.96


@dataclass(frozen=True)
class CriminalSearch:
    """CJIS's answer to one accepted CAR (its SRE), as the audit record holds it."""

    at: datetime
    tcn: str
    identified: bool
    fbi_number: str | None


@dataclass(frozen=True)
class Removal:
    """A removal as its `case_state` REMOVED entry records it."""

    at: datetime
    level: int  # under `rule_set` (REMOVAL_LEVELS): 0 = no conviction
    rule_set: str
    track: str


@dataclass
class RunRecord:
    """What a run did, read from its audit log in chain order."""

    switch_settings: list[SwitchSetting] = field(default_factory=list)
    bookings: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # case: ori, at
    ident_replies: set[tuple[str, str]] = field(default_factory=set)  # (IDR type, case)
    ident_ids: dict[str, str] = field(default_factory=dict)  # case: IDENT identity matched
    states: dict[str, str] = field(default_factory=dict)  # case: its last case state
    custody: dict[str, str] = field(default_factory=dict)  # case: its last custody state
    transfers: dict[str, datetime] = field(default_factory=dict)  # case: when ICE took it
    criminal_searches: list[CriminalSearch] = field(default_factory=list)
    detainers: list[str] = field(default_factory=list)  # case of each detainer lodged
    removals: dict[str, Removal] = field(default_factory=dict)  # case: its removal
    levels: dict[str, int] = field(default_factory=dict)  # case: the level of LESC's IAR

    @classmethod
    def read(cls, session: Session) -> RunRecord:
        return cls.of_entries(database_entries(session))

    @classmethod
    def of_entries(cls, entries: Iterable[MemoryEntry]) -> RunRecord:
        """The record of audit entries however read: from a database or a memory run."""
        record = cls()
        for row in entries:
            payload = row.payload
            if row.kind == "switch":
                record.switch_settings.append(_switch_setting(row.name, row.actor, payload))
            elif row.kind == "booking":
                record.bookings[row.case_id] = (payload["ori"], row.recorded_at)
            elif row.kind == "case_state":
                record.states[row.case_id] = payload["to"]
                if payload["to"] == "removed":
                    record.removals[row.case_id] = Removal(
                        row.recorded_at, payload["level"], payload["rule_set"], payload["track"]
                    )
            elif row.kind == "custody":
                record.custody[row.case_id] = payload["to"]
                if payload["to"] == "transferred_to_ice":
                    record.transfers.setdefault(row.case_id, row.recorded_at)
            elif row.kind == "message":
                record._message(row.name, row.actor, row.case_id, row.recorded_at, payload)
        return record

    def _message(
        self, name: str, sender: str, case_id: str, at: datetime, payload: dict[str, Any]
    ) -> None:
        body = payload.get("body", {})
        if name in ("IDR_MATCH", "IDR_NO_MATCH"):
            self.ident_replies.add((name, case_id))
            if name == "IDR_MATCH":
                self.ident_ids[case_id] = body["ident_id"]
        elif name == "SRE" and sender == "cjis":  # CJIS's answer, not the SIB's relay of it
            self.criminal_searches.append(
                CriminalSearch(at, body["tcn"], bool(body["identified"]), body.get("fbi_number"))
            )
        elif name == "DETAINER":
            self.detainers.append(case_id)
        elif name == "IAR" and body.get("level") is not None:
            self.levels[case_id] = int(body["level"])


def _switch_setting(name: str, owner: str, payload: dict[str, Any]) -> SwitchSetting:
    until = payload["effective_to"]
    return SwitchSetting(
        ori=payload["ori"],
        switch=Switch(name.removeprefix("SWITCH_")),
        enabled=payload["enabled"],
        effective_from=datetime.fromisoformat(payload["effective_from"]),
        changed_by=SwitchOwner(owner),
        reason=payload["reason"],
        effective_to=datetime.fromisoformat(until) if until else None,
    )


def ground_truth(record: RunRecord, world: World) -> dict[str, int]:
    """What only the synthetic world knows: biometric misses and false hits, detainers on
    citizens and on charges the court later dismissed, citizens handed to ICE and removed
    (never, if the flow holds to its rule)."""
    person_of = person_by_case(world)
    truth: Counter[str] = Counter()
    _criminal_truth(record, world, truth)
    for case_id in record.bookings:
        person = person_of.get(case_id)
        if person is None:
            continue
        state = record.states.get(case_id)
        immigration = person.immigration
        ident_id = record.ident_ids.get(case_id)
        if ident_id is not None:
            truth["ident_matches"] += 1
            if immigration is None or immigration.ident_id != ident_id:
                truth["ident_false_matches"] += 1
        elif immigration is not None and state == "ident_no_match":
            truth["ident_missed_matches"] += 1
        if record.custody.get(case_id) == "transferred_to_ice" and person.path.is_citizen:
            truth["us_citizens_transferred_to_ice"] += 1
        if case_id in record.removals and person.path.is_citizen:
            truth["us_citizens_removed"] += 1
    cleared = {
        derived_id("case", d.tcn)
        for d in world.dispositions
        if d.outcome in (DispositionOutcome.DISMISSED, DispositionOutcome.ACQUITTED)
    }
    for case_id in record.detainers:
        person = person_of.get(case_id)
        if person is None:
            continue
        truth["detainers"] += 1
        truth["detainers_on_us_citizens"] += person.path.is_citizen
        truth["detainers_on_charges_later_dismissed"] += case_id in cleared
    return {
        k: truth[k]
        for k in (
            "criminal_identifications",
            "criminal_false_matches",
            "criminal_missed_matches",
            "ident_matches",
            "ident_false_matches",
            "ident_missed_matches",
            "detainers",
            "detainers_on_us_citizens",
            "detainers_on_charges_later_dismissed",
            "us_citizens_transferred_to_ice",
            "us_citizens_removed",
        )
    }


def person_by_case(world: World) -> dict[str, Person]:
    return {derived_id("case", p.booking.tcn): world.people[p.person_id] for p in world.bookings}


def _criminal_truth(record: RunRecord, world: World, truth: Counter[str]) -> None:
    """Each CJIS search against who the person is: someone with a record, or booked (and so
    enrolled) before, must be identified as that FBI number; anyone else must not be."""
    planned = {p.booking.tcn: p for p in world.bookings}
    known: dict[str, str | None] = {}  # person id -> FBI number the repository holds them under
    for search in sorted(record.criminal_searches, key=lambda s: (s.at, s.tcn)):
        booking = planned.get(search.tcn)
        if booking is None:
            continue
        person = world.people[booking.person_id]
        expected = person.criminal.fbi_number if person.criminal else known.get(person.person_id)
        if search.identified:
            truth["criminal_identifications"] += 1
            truth["criminal_false_matches"] += search.fbi_number != expected
        elif expected is not None:
            truth["criminal_missed_matches"] += 1
        known.setdefault(person.person_id, search.fbi_number)


# -- the published figures --


@dataclass(frozen=True)
class Measured:
    value: float
    numerator: float
    denominator: float  # 0 for a count


def removal_group(level: int) -> str:
    """How the published figures group a removal's level (DOMAIN.md §4.1)."""
    if level == 0:
        return "non_criminal"
    return "level_1_or_2" if level in (1, 2) else "level_3"


@dataclass(frozen=True)
class CaseFacts:
    """One booking as the run handled it (from the audit record) and who the person is
    (from the world): what every figure is counted from."""

    case_id: str
    ori: str
    state: str
    booked_at: datetime
    submitted: bool  # switch B was on: the prints went to IDENT
    searched: bool  # IDENT answered
    matched: bool
    level: int | None  # LESC's level in the IAR
    detainer: bool
    arrested: bool  # transferred to ICE custody (an ICE arrest / book-in)
    removal: str | None  # None, or removal_group's "non_criminal", "level_1_or_2", "level_3"
    removed_at: datetime | None  # when the flow removed the person (the REMOVED entry)
    person: Person
    transferred_at: datetime | None = None  # when ICE took custody, where the record says

    @property
    def arrested_at(self) -> datetime:
        """When the ICE arrest happened: the transfer, else (a record without it) the booking."""
        return self.transferred_at or self.booked_at


def case_facts(record: RunRecord, world: World) -> list[CaseFacts]:
    """Every booking of the run with its outcome, in booking order."""
    scenario = world.scenario
    assert scenario is not None
    person_of = person_by_case(world)
    state_of = {p.jurisdiction.ori: p.jurisdiction.state for p in world.jurisdictions}
    replies = record.ident_replies
    matched = {case for (kind, case) in replies if kind == "IDR_MATCH"}
    searched = {case for (_, case) in replies}
    detained = set(record.detainers)
    out = []
    for case_id, (ori, booked_at) in sorted(record.bookings.items(), key=lambda kv: kv[1][1]):
        person = person_of.get(case_id)
        if person is None:
            continue
        submitted = switch_is_on(record.switch_settings, ori, Switch.B_FORWARD_TO_IDENT, booked_at)
        arrested = submitted and record.custody.get(case_id) == "transferred_to_ice"
        removal = record.removals.get(case_id) if arrested else None
        if removal is not None and removal.rule_set != REMOVAL_LEVELS:
            raise ValueError(f"case {case_id}: removal counted under {removal.rule_set}")
        out.append(
            CaseFacts(
                case_id=case_id,
                ori=ori,
                state=state_of.get(ori, ""),
                booked_at=booked_at,
                submitted=submitted,
                searched=submitted and case_id in searched,
                matched=submitted and case_id in matched,
                level=record.levels.get(case_id),
                detainer=submitted and case_id in detained,
                arrested=arrested,
                removal=None if removal is None else removal_group(removal.level),
                removed_at=None if removal is None else removal.at,
                person=person,
                transferred_at=record.transfers.get(case_id) if arrested else None,
            )
        )
    return out


def measure(
    record: RunRecord, world: World, cases: list[CaseFacts] | None = None
) -> dict[str, Measured]:
    """Every target figure of the scenario measured on the run, each over its own window
    (else the scenario's target window) and state (else the nation); `cases` when the
    caller has them already (`case_facts`)."""
    scenario = world.scenario
    assert scenario is not None
    cases = case_facts(record, world) if cases is None else cases
    return {t.name: measure_target(t, cases, scenario.target_window) for t in scenario.targets}


def measure_target(
    target: Target, cases: list[CaseFacts], default_window: tuple[datetime, datetime]
) -> Measured:
    start, end = target.window or default_window
    chosen = [c for c in cases if target.state is None or c.state == target.state]
    return measure_figure(target.measured, chosen, until=end, since=start)


def measure_figure(
    name: str,
    cases: list[CaseFacts],
    until: datetime | None = None,
    since: datetime | None = None,
) -> Measured:
    """One figure (scenario.MEASURES) over the period [`since`, `until`) (open where None):
    a count, or a share with its parts. Each event is counted by its own date, as the
    published figures are: submissions, matches and detainers by the booking; ICE arrests
    by the transfer to ICE (the booking where the record lacks it); removals by the
    removal, whenever the person was booked (`cases` then holds every booking of the run,
    not only those of the period). The shares per match follow the matches booked in the
    period (their arrests made by its end)."""

    def within(moment: datetime | None) -> bool:
        return (
            moment is not None
            and (since is None or moment >= since)
            and (until is None or moment < until)
        )

    submitted = [c for c in cases if c.submitted and within(c.booked_at)]
    matched = [c for c in submitted if c.matched]
    arrested = [c for c in cases if c.submitted and c.arrested and within(c.arrested_at)]
    removed = [
        c
        for c in cases
        if c.submitted and c.arrested and c.removal is not None and within(c.removed_at)
    ]
    arrested_of_matches = sum(
        c.arrested and (until is None or c.arrested_at < until) for c in matched
    )
    counts: dict[str, int] = {
        "submissions": len(submitted),
        "ident_matches": len(matched),
        "ident_matches_level_1": sum(c.level == 1 for c in matched),
        "detainers": sum(c.detainer for c in submitted),
        "ice_arrests": len(arrested),
        "removals": len(removed),
        "removed_non_criminal": sum(c.removal == "non_criminal" for c in removed),
        "removed_level_3": sum(c.removal == "level_3" for c in removed),
    }
    if name in counts:
        return Measured(counts[name], counts[name], 0)
    shares: dict[str, tuple[int, int]] = {
        "ident_match_rate": (len(matched), sum(c.searched for c in submitted)),
        "detainers_per_match": (sum(c.detainer for c in matched), len(matched)),
        "ice_arrests_per_match": (arrested_of_matches, len(matched)),
        "ice_arrests_per_submission": (len(arrested), len(submitted)),
        "citizens_among_ice_arrests": (
            sum(c.person.path.is_citizen for c in arrested),
            len(arrested),
        ),
        "removals_per_ice_arrest": (len(removed), len(arrested)),
        "removals_level_1_or_2": (sum(c.removal == "level_1_or_2" for c in removed), len(removed)),
        "removals_level_3": (counts["removed_level_3"], len(removed)),
        "removals_without_conviction": (counts["removed_non_criminal"], len(removed)),
    }
    if name not in shares:
        raise KeyError(f"no such figure: {name}")
    return _share(*shares[name])


def _share(numerator: float, denominator: float) -> Measured:
    return Measured(numerator / denominator if denominator else math.nan, numerator, denominator)


def target_table(world: World, measured: dict[str, Measured]) -> list[dict[str, Any]]:
    """Target against simulated, each with a 95% interval from the run's own sample size
    (Wilson for shares, Poisson for counts): how close a run of this size can get. Each row
    says its role (fit or check), its period and its state ("national" for all)."""
    scenario = world.scenario
    assert scenario is not None
    rows = []
    for target in scenario.targets:
        got = measured[target.name]
        expected = target.value * scenario.scale if target.kind == "count" else target.value
        low, high = _interval(target.kind, got)
        rows.append(
            {
                "figure": target.name,
                "measure": target.measured,
                "role": target.role,
                "period": period_label(target.window or scenario.target_window),
                "window": [d.date().isoformat() for d in target.window or scenario.target_window],
                "state": target.state or "national",
                "description": target.description,
                "comparison": target.comparison,
                "target": expected,
                "target_published": target.value,
                "simulated": None if math.isnan(got.value) else got.value,
                "numerator": got.numerator,
                "denominator": got.denominator,
                "interval_95": [low, high],
                # no case to measure on (a share over nothing): neither covered nor not
                "target_in_interval": None
                if math.isnan(got.value)
                else _covered(target.comparison, expected, low, high),
                "relative_difference": None
                if math.isnan(got.value) or expected == 0
                else (got.value - expected) / expected,
                "source": target.source,
            }
        )
    return rows


def _covered(comparison: str, expected: float, low: float, high: float) -> bool:
    """Whether the published figure is consistent with the run: inside the interval, or
    for a published bound (">111,000"), the interval reaching past it."""
    if comparison == "at_least":
        return bool(high >= expected)
    if comparison == "at_most":
        return bool(low <= expected)
    return bool(low <= expected <= high)


def _interval(kind: str, got: Measured) -> tuple[float, float]:
    if kind == "count":
        spread = Z95 * math.sqrt(max(got.value, 1.0))
        return max(0.0, got.value - spread), got.value + spread
    return wilson(got.numerator, got.denominator)


def wilson(numerator: float, n: float) -> tuple[float, float]:
    """The 95% Wilson interval of a share `numerator`/`n` (0 to 1 when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = numerator / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def period_label(window: tuple[datetime, datetime]) -> str:
    """ "FY2009" for a federal fiscal year (1 Oct to 1 Oct), else "2008-10 to 2011-03"."""
    start, end = window
    if start.month == 10 and start.day == 1 and end == start.replace(year=start.year + 1):
        return f"FY{end.year}"
    last = end - timedelta(days=1)
    return f"{start:%Y-%m} to {last:%Y-%m}"


def window_text(window: tuple[datetime, datetime]) -> str:
    return f"{window[0].date().isoformat()} to {window[1].date().isoformat()}"
