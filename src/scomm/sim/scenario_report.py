"""A scenario run against the world's ground truth and the published figures it targets.

The counts come from the run's database (cases, bookings, switches, detainers); who each
person really is (a citizen? convicted?) only the synthetic world knows. Removals happen
after the flow scomm models, so they are drawn here, per transferred case, with the
scenario's `ice_custody.removal_share` (citizens are never removed), and counted by the
conviction-based levels on the person's convictions, this booking's included when the court
convicted.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.domain.ids import derived_id
from scomm.domain.levels import CriminalFacts, determine, rule_set_named
from scomm.domain.messages import DispositionOutcome
from scomm.domain.offenses import classify_literal
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting, switch_is_on
from scomm.services.common import seeded_draw
from scomm.sim.synth.population import Person
from scomm.sim.synth.scenario import Target
from scomm.sim.synth.world import World
from scomm.store.models import (
    BookingRow,
    CaseRow,
    CriminalSubmissionRow,
    DetainerRow,
    OutboxRow,
    SwitchSettingRow,
)

Z95 = 1.96
# ICE counted removals by the conviction-based levels (Morton memos): level 0 is
# "non-criminal", no conviction at the time of removal.
REMOVAL_LEVELS = rule_set_named("2011-conviction-based")


def ground_truth(session: Session, world: World) -> dict[str, int]:
    """What only the synthetic world knows: biometric misses and false hits, detainers on
    citizens and on charges the court later dismissed, citizens handed to ICE."""
    person_of = person_by_case(world)
    truth: Counter[str] = Counter()
    _criminal_truth(session, world, truth)
    for case in session.scalars(select(CaseRow)):
        person = person_of.get(case.case_id)
        if person is None:
            continue
        record = person.immigration
        if case.ident_id is not None:
            truth["ident_matches"] += 1
            if record is None or record.ident_id != case.ident_id:
                truth["ident_false_matches"] += 1
        elif record is not None and case.state == "ident_no_match":
            truth["ident_missed_matches"] += 1
        if case.custody == "transferred_to_ice" and person.path.is_citizen:
            truth["us_citizens_transferred_to_ice"] += 1
    cleared = {
        derived_id("case", d.tcn)
        for d in world.dispositions
        if d.outcome in (DispositionOutcome.DISMISSED, DispositionOutcome.ACQUITTED)
    }
    for detainer in session.scalars(select(DetainerRow)):
        person = person_of.get(detainer.case_id)
        if person is None:
            continue
        truth["detainers"] += 1
        truth["detainers_on_us_citizens"] += person.path.is_citizen
        truth["detainers_on_charges_later_dismissed"] += detainer.case_id in cleared
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
        )
    }


def person_by_case(world: World) -> dict[str, Person]:
    return {derived_id("case", p.booking.tcn): world.people[p.person_id] for p in world.bookings}


def _criminal_truth(session: Session, world: World, truth: Counter[str]) -> None:
    """Each CJIS search against who the person is: someone with a record, or booked (and so
    enrolled) before, must be identified as that FBI number; anyone else must not be."""
    planned = {p.booking.tcn: p for p in world.bookings}
    known: dict[str, str] = {}  # person id -> FBI number the repository holds them under
    rows = session.scalars(
        select(CriminalSubmissionRow).order_by(
            CriminalSubmissionRow.received_at, CriminalSubmissionRow.tcn
        )
    )
    for row in rows:
        booking = planned.get(row.tcn)
        if booking is None:
            continue
        person = world.people[booking.person_id]
        expected = person.criminal.fbi_number if person.criminal else known.get(person.person_id)
        if row.identified:
            truth["criminal_identifications"] += 1
            truth["criminal_false_matches"] += row.fbi_number != expected
        elif expected is not None:
            truth["criminal_missed_matches"] += 1
        known.setdefault(person.person_id, row.fbi_number)


# -- the published figures --


@dataclass(frozen=True)
class Measured:
    value: float
    numerator: float
    denominator: float  # 0 for a count


def measure(session: Session, world: World) -> dict[str, Measured]:
    """Every target figure measured on the run, over the scenario's target window."""
    scenario = world.scenario
    assert scenario is not None
    start, end = scenario.target_window
    settings = [
        SwitchSetting(
            ori=r.ori,
            switch=Switch(r.switch),
            enabled=r.enabled,
            effective_from=r.effective_from,
            changed_by=SwitchOwner(r.changed_by),
            reason=r.reason,
            effective_to=r.effective_to,
        )
        for r in session.scalars(select(SwitchSettingRow))
    ]
    submitted: set[str] = set()
    for booking in session.scalars(
        select(BookingRow).where(BookingRow.booked_at >= start, BookingRow.booked_at < end)
    ):
        if switch_is_on(settings, booking.ori, Switch.B_FORWARD_TO_IDENT, booking.booked_at):
            submitted.add(booking.case_id)
    replies = Counter(
        session.execute(
            select(OutboxRow.type, OutboxRow.case_id).where(
                OutboxRow.type.in_(("IDR_MATCH", "IDR_NO_MATCH"))
            )
        ).all()
    )
    matched = {case for (kind, case) in replies if kind == "IDR_MATCH" and case in submitted}
    searched = {case for (_, case) in replies if case in submitted}
    cases = {
        c.case_id: c for c in session.scalars(select(CaseRow).where(CaseRow.case_id.in_(submitted)))
    }
    arrested = [c for c in cases.values() if c.custody == "transferred_to_ice"]
    person_of = person_by_case(world)
    convicted_now = {
        derived_id("case", d.tcn)
        for d in world.dispositions
        if d.outcome is DispositionOutcome.CONVICTED
    }
    charges = {derived_id("case", b.booking.tcn): b.booking.charges for b in world.bookings}
    removals: Counter[str] = Counter()
    for case in arrested:
        person = person_of[case.case_id]
        if person.path.is_citizen:
            continue
        if seeded_draw(scenario.seed, "removal", case.case_id) >= scenario.removal_share:
            continue
        convictions = [o.ncic_code for o in person.criminal.convictions] if person.criminal else []
        if case.case_id in convicted_now:
            convictions += [classify_literal(c.literal).ncic_code for c in charges[case.case_id]]
        level = determine(REMOVAL_LEVELS, CriminalFacts(convictions=tuple(convictions))).level
        removals["total"] += 1
        if level == 0:
            removals["non_criminal"] += 1
        elif level in (1, 2):
            removals["level_1_or_2"] += 1
        else:
            removals["level_3"] += 1
    citizens = sum(person_of[c.case_id].path.is_citizen for c in arrested)
    n_sub, n_arr, n_rem = len(submitted), len(arrested), removals["total"]
    return {
        "submissions": Measured(n_sub, n_sub, 0),
        "ident_match_rate": _share(len(matched), len(searched)),
        "ice_arrests_per_submission": _share(n_arr, n_sub),
        "citizens_among_ice_arrests": _share(citizens, n_arr),
        "removals_per_ice_arrest": _share(n_rem, n_arr),
        "removals_level_1_or_2": _share(removals["level_1_or_2"], n_rem),
        "removals_level_3": _share(removals["level_3"], n_rem),
        "removals_without_conviction": _share(removals["non_criminal"], n_rem),
    }


def _share(numerator: float, denominator: float) -> Measured:
    return Measured(numerator / denominator if denominator else math.nan, numerator, denominator)


def target_table(world: World, measured: dict[str, Measured]) -> list[dict[str, Any]]:
    """Target against simulated, each with a 95% interval from the run's own sample size
    (Wilson for shares, Poisson for counts): how close a run of this size can get."""
    scenario = world.scenario
    assert scenario is not None
    rows = []
    for target in scenario.targets:
        got = measured[target.name]
        expected = target.value * scenario.scale if target.kind == "count" else target.value
        low, high = _interval(target, got)
        rows.append(
            {
                "figure": target.name,
                "description": target.description,
                "target": expected,
                "target_published": target.value,
                "simulated": None if math.isnan(got.value) else got.value,
                "numerator": got.numerator,
                "denominator": got.denominator,
                "interval_95": [low, high],
                "target_in_interval": bool(low <= expected <= high),
                "relative_difference": None
                if math.isnan(got.value) or expected == 0
                else (got.value - expected) / expected,
                "source": target.source,
            }
        )
    return rows


def _interval(target: Target, got: Measured) -> tuple[float, float]:
    if target.kind == "count":
        spread = Z95 * math.sqrt(max(got.value, 1.0))
        return max(0.0, got.value - spread), got.value + spread
    n = got.denominator
    if n == 0:
        return 0.0, 1.0
    p = got.numerator / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def window_text(window: tuple[datetime, datetime]) -> str:
    return f"{window[0].date().isoformat()} to {window[1].date().isoformat()}"
