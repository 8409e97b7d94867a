"""The release's measures counted again from the actors' own tables (cases, detainers,
criminal submissions, charges, IDENT's subjects, USCIS's benefits, switch settings), not
from the audit log: the check that the statistics the log gives are the ones the actors
hold (`tests/reports/test_audit_equals_tables.py`).

The tables keep less than the log. Where they keep the event's date, an atom is counted per
jurisdiction and month (`dated`); where they keep only where a case or detainer ended, a
measure is counted per jurisdiction over the whole run (`undated`); and some measures the
tables cannot count at all (`UNCOUNTABLE`, each with the reason).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.immigration import BenefitKind
from scomm.domain.records import Repository
from scomm.reports.cells import BaseKey
from scomm.reports.measures import match_atom, month_of, switch_owner
from scomm.store.models import (
    BenefitRecordRow,
    BookingRow,
    CaseRow,
    ChargeRow,
    CriminalSubmissionRow,
    DetainerRow,
    SubjectRow,
    SwitchSettingRow,
)

# Where a case stands when CJIS did not (or not yet) send its prints to IDENT
NOT_FORWARDED = frozenset(
    {"booked", "rejected", "state_only", "not_forwarded", "criminal_searched"}
)
CITIZENSHIP = (BenefitKind.NATURALIZATION.value, BenefitKind.DERIVED_CITIZENSHIP.value)

# measure -> why the actors' tables cannot count it at all
UNCOUNTABLE: dict[str, str] = {
    "removals_l1": "the cases table keeps LESC's level, not the level of the removal",
    "removals_l2": "the cases table keeps LESC's level, not the level of the removal",
    "removals_l3": "the cases table keeps LESC's level, not the level of the removal",
    "removals_noncriminal": "the cases table keeps LESC's level, not the level of the removal",
    "holds_past_legal_end": "no table keeps when custody ended",
    "detainers_on_dismissed_charges": "no table keeps the court's disposition",
}
# measures the tables count per jurisdiction only: they keep no date of the event
UNDATED = ("ice_arrests", "detainers_transferred", "removals", "citizens_transferred")


@dataclass
class ActorCounts:
    dated: Counter[BaseKey] = field(default_factory=Counter)  # atom, ORI, month
    undated: Counter[tuple[str, str]] = field(default_factory=Counter)  # measure, ORI


def count_tables(session: Session, rules: RuleCatalogue | None = None) -> ActorCounts:
    """Every atom and measure the actors' tables can count (see the module docstring)."""
    rules = rules or RuleCatalogue.load()
    counts = ActorCounts()
    cases = {row.case_id: row for row in session.scalars(select(CaseRow)).all()}
    submitted = {
        row.case_id: row.received_at for row in session.scalars(select(CriminalSubmissionRow)).all()
    }
    citizens = _citizen_cases(session, cases, submitted)
    for case_id, received_at in submitted.items():
        case = cases.get(case_id)
        if case is None:
            continue
        month = month_of(received_at)
        if case.state not in NOT_FORWARDED:
            counts.dated["submission", case.ori, month] += 1
            if case.ident_id is not None:
                atom = match_atom(case.level, case.rule_set is not None)
                counts.dated[atom, case.ori, month] += 1
                if case_id in citizens:
                    counts.dated["citizen_matched", case.ori, month] += 1
                    if case.removability == "status_unresolved":
                        counts.dated["citizen_status_unresolved", case.ori, month] += 1
    for case in cases.values():
        if case.custody == "transferred_to_ice":
            counts.undated["ice_arrests", case.ori] += 1
            if case.case_id in citizens:
                counts.undated["citizens_transferred", case.ori] += 1
        if case.state == "removed":
            counts.undated["removals", case.ori] += 1
    for detainer in session.scalars(select(DetainerRow)).all():
        owner = cases.get(detainer.case_id)
        if owner is None:
            continue
        for atom, at in _detainer_events(detainer, detainer.case_id in citizens):
            counts.dated[atom, owner.ori, month_of(at)] += 1
        if detainer.status == "transferred":
            counts.undated["detainers_transferred", owner.ori] += 1
    for atom, ori, at in _unclassified(session, submitted, rules):
        counts.dated[atom, ori, month_of(at)] += 1
    for row in session.scalars(select(SwitchSettingRow)).all():
        owner_name = switch_owner(row.changed_by)
        counts.dated[f"switch_change_{owner_name}", row.ori, month_of(row.effective_from)] += 1
    return counts


def _detainer_events(detainer: DetainerRow, citizen: bool) -> Iterator[tuple[str, datetime]]:
    answer = {True: "honoured", False: "declined", None: "unanswered"}[detainer.honoured]
    yield f"detainer_{answer}", detainer.lodged_at
    if citizen:
        yield "citizen_detained", detainer.lodged_at
    if detainer.status == "expired" and detainer.hold_deadline is not None:
        yield "detainer_expired", detainer.hold_deadline
    if detainer.status == "withdrawn" and detainer.withdrawn_at is not None:
        yield "detainer_withdrawn", detainer.withdrawn_at


def _citizen_cases(
    session: Session, cases: dict[str, CaseRow], submitted: dict[str, datetime]
) -> set[str]:
    """The matched cases whose IDENT identity's A-number USCIS holds a naturalization or
    derived-citizenship certificate for, granted by the time CJIS had the prints (LESC
    looked minutes later)."""
    a_numbers = {
        row.identity_id: row.a_number
        for row in session.scalars(
            select(SubjectRow).where(SubjectRow.repository == Repository.IMMIGRATION.value)
        ).all()
        if row.a_number
    }
    granted: dict[str, list[datetime]] = {}
    for benefit in session.scalars(
        select(BenefitRecordRow).where(BenefitRecordRow.kind.in_(CITIZENSHIP))
    ).all():
        granted.setdefault(benefit.a_number, []).append(benefit.granted_at)
    found = set()
    for case_id, case in cases.items():
        a_number = a_numbers.get(case.ident_id or "")
        when = submitted.get(case_id)
        if a_number and when is not None and any(g <= when for g in granted.get(a_number, ())):
            found.add(case_id)
    return found


def _unclassified(
    session: Session, submitted: dict[str, datetime], rules: RuleCatalogue
) -> Iterator[tuple[str, str, datetime]]:
    """Each booking CJIS accepted with a charge literal the classifier does not know."""
    bookings = {row.booking_id: row for row in session.scalars(select(BookingRow)).all()}
    literals: dict[str, list[str]] = {}
    for charge in session.scalars(select(ChargeRow)).all():
        literals.setdefault(charge.booking_id, []).append(charge.literal)
    for booking_id, row in bookings.items():
        received_at = submitted.get(row.case_id)
        if received_at is None:
            continue
        if any(rules.classify(literal).unknown for literal in literals.get(booking_id, ())):
            yield "booking_unclassified_literal", row.ori, received_at
