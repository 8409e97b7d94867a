"""The measures a statistics release publishes and the atoms they sum, counted from a ledger.

Two tables. "ice_monthly" is ICE's monthly IDENT/IAFIS interoperability statistics as
DOMAIN.md §4.1 reconstructs them: fingerprint submissions from activated jurisdictions,
IDENT matches (by the level LESC gave), ICE arrests / book-ins, removals and returns by
level and non-criminal. "never_published" is what ICE never counted: detainers and what
became of them, holds kept past their legal end, US citizens on USCIS's records, detainers
on charges later dismissed, arrest literals nobody could classify, and who changed which
switch.

Each atom is a kind of event, counted in the month of its date and the jurisdiction of its
booking (a switch change: the ORI it names, in the month it took effect):

- a submission (CJIS forwarded the prints to IDENT) and the IDENT match it found, with the
  match's level, and a US citizen on USCIS's records matched or answered "status
  unresolved": the month CJIS forwarded the prints;
- a detainer, the jail's answer to it (honoured, declined, or none: the detainer was
  withdrawn first or never answered), a citizen detained, a detainer on charges later
  dismissed or acquitted: the month the detainer was lodged (the jail answers within
  hours; counting the answer with its detainer makes lodged = declined + honoured +
  unanswered hold in every cell, a margin the disclosure control sees);
- a hold that expired: its deadline; a withdrawal: when ICE withdrew it; an ICE arrest
  (custody transferred to ICE, which is also the detainer's transfer) and a citizen
  transferred: the transfer; a hold past its legal end: when custody ended;
- a removal (returns included) by the level its REMOVED entry names: the removal;
- a booking with a charge literal the classifier calls unknown: when CJIS classified it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from scomm.reports.cells import BaseKey, Layout, Measure, months_between
from scomm.reports.ledger import CHARGES_FAILED, CaseFacts, Ledger

ICE_MONTHLY = "ice_monthly"
NEVER_PUBLISHED = "never_published"
GROUPS = (ICE_MONTHLY, NEVER_PUBLISHED)

MATCH_ATOMS = (
    "ident_match_l1",
    "ident_match_l2",
    "ident_match_l3",
    "ident_match_l0",
    "ident_match_unleveled",
)
REMOVAL_ATOMS = (
    "removal_l1",
    "removal_l2",
    "removal_l3",
    "removal_noncriminal",
    "removal_unleveled",
)
ANSWER_ATOMS = ("detainer_declined", "detainer_honoured", "detainer_unanswered")
SWITCH_OWNERS = ("federal", "state", "jurisdiction", "operator")
SWITCH_ATOMS = tuple(f"switch_change_{owner}" for owner in SWITCH_OWNERS)
SWITCH_PARTIES = ("the federal government", "a state", "a jurisdiction", "an operator")
ATOMS = (
    "submission",
    *MATCH_ATOMS,
    "ice_arrest",
    *REMOVAL_ATOMS,
    *ANSWER_ATOMS,
    "detainer_expired",
    "detainer_withdrawn",
    "hold_past_legal_end",
    "citizen_matched",
    "citizen_status_unresolved",
    "citizen_detained",
    "citizen_transferred",
    "detainer_charges_failed",
    "booking_unclassified_literal",
    *SWITCH_ATOMS,
)


def _m(name: str, title: str, group: str, *atoms: str) -> Measure:
    return Measure(name, title, atoms or (name,), group)


MEASURES: tuple[Measure, ...] = (
    _m("submissions", "Submissions (prints forwarded to IDENT)", ICE_MONTHLY, "submission"),
    _m("ident_matches", "IDENT matches", ICE_MONTHLY, *MATCH_ATOMS),
    _m("ident_matches_l1", "IDENT matches, level 1", ICE_MONTHLY, "ident_match_l1"),
    _m("ident_matches_l2", "IDENT matches, level 2", ICE_MONTHLY, "ident_match_l2"),
    _m("ident_matches_l3", "IDENT matches, level 3", ICE_MONTHLY, "ident_match_l3"),
    _m(
        "ident_matches_no_level",
        "IDENT matches, no level (non-criminal, or not levelled)",
        ICE_MONTHLY,
        "ident_match_l0",
        "ident_match_unleveled",
    ),
    _m("ice_arrests", "ICE arrests / book-ins (custody to ICE)", ICE_MONTHLY, "ice_arrest"),
    _m("removals", "Removals and returns", ICE_MONTHLY, *REMOVAL_ATOMS),
    _m("removals_l1", "Removals, level 1", ICE_MONTHLY, "removal_l1"),
    _m("removals_l2", "Removals, level 2", ICE_MONTHLY, "removal_l2"),
    _m("removals_l3", "Removals, level 3", ICE_MONTHLY, "removal_l3"),
    _m("removals_noncriminal", "Removals, non-criminal", ICE_MONTHLY, "removal_noncriminal"),
    _m("detainers_lodged", "Detainers lodged", NEVER_PUBLISHED, *ANSWER_ATOMS),
    _m("detainers_declined", "Detainers declined", NEVER_PUBLISHED, "detainer_declined"),
    _m("detainers_honoured", "Detainers honoured", NEVER_PUBLISHED, "detainer_honoured"),
    _m("detainers_expired", "Holds expired", NEVER_PUBLISHED, "detainer_expired"),
    _m("detainers_withdrawn", "Detainers withdrawn", NEVER_PUBLISHED, "detainer_withdrawn"),
    _m(
        "detainers_transferred",
        "Detainers ending in a transfer to ICE",
        NEVER_PUBLISHED,
        "ice_arrest",
    ),
    _m(
        "holds_past_legal_end",
        "Holds past their legal end",
        NEVER_PUBLISHED,
        "hold_past_legal_end",
    ),
    _m(
        "citizens_matched",
        "US citizens on USCIS's records matched",
        NEVER_PUBLISHED,
        "citizen_matched",
    ),
    _m(
        "citizens_status_unresolved",
        "US citizens on USCIS's records answered 'status unresolved'",
        NEVER_PUBLISHED,
        "citizen_status_unresolved",
    ),
    _m(
        "citizens_detained",
        "US citizens on USCIS's records with a detainer",
        NEVER_PUBLISHED,
        "citizen_detained",
    ),
    _m(
        "citizens_transferred",
        "US citizens on USCIS's records transferred to ICE",
        NEVER_PUBLISHED,
        "citizen_transferred",
    ),
    _m(
        "detainers_on_dismissed_charges",
        "Detainers on charges later dismissed or acquitted",
        NEVER_PUBLISHED,
        "detainer_charges_failed",
    ),
    _m(
        "unclassifiable_literals",
        "Bookings with an unclassifiable arrest literal",
        NEVER_PUBLISHED,
        "booking_unclassified_literal",
    ),
    _m("switch_changes", "Switch changes", NEVER_PUBLISHED, *SWITCH_ATOMS),
    *(
        _m(f"switch_changes_{owner}", f"Switch changes by {party}", NEVER_PUBLISHED, atom)
        for owner, party, atom in zip(SWITCH_OWNERS, SWITCH_PARTIES, SWITCH_ATOMS, strict=True)
    ),
)


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


@dataclass(frozen=True)
class Event:
    atom: str
    ori: str
    at: datetime


def events(ledger: Ledger) -> Iterator[Event]:
    """Every counted event of the ledger (see the module docstring for each one's date)."""
    for case in ledger.cases.values():
        yield from _case_events(case)
    yield from _switch_events(ledger)


def _switch_events(ledger: Ledger) -> Iterator[Event]:
    for change in ledger.switch_changes:
        owner = switch_owner(change.owner)
        yield Event(f"switch_change_{owner}", change.ori, change.effective_from)


def switch_owner(changed_by: str) -> str:
    """The party a switch change counts under: its owner, else an operator's action."""
    return changed_by if changed_by in SWITCH_OWNERS[:3] else "operator"


def match_atom(level: int | None, determined: bool) -> str:
    if not determined or level is None:
        return "ident_match_unleveled"
    return f"ident_match_l{level}" if level in (0, 1, 2, 3) else "ident_match_unleveled"


def removal_atom(level: int | None) -> str:
    if level == 0:
        return "removal_noncriminal"
    return f"removal_l{level}" if level in (1, 2, 3) else "removal_unleveled"


def _case_events(case: CaseFacts) -> Iterator[Event]:
    ori = case.ori
    citizen = bool(case.citizenship_record)
    if case.forwarded_at is not None:
        at = case.forwarded_at
        yield Event("submission", ori, at)
        if case.ident == "match" or case.ident_id is not None:
            found = case.determination
            yield Event(match_atom(found.level if found else None, found is not None), ori, at)
            if citizen:
                yield Event("citizen_matched", ori, at)
                if found is not None and found.status_unresolved:
                    yield Event("citizen_status_unresolved", ori, at)
    for detainer in case.detainers:
        lodged = detainer.lodged_at
        answer = detainer.answer or "unanswered"
        yield Event(f"detainer_{answer}", ori, lodged)
        if citizen:
            yield Event("citizen_detained", ori, lodged)
        if case.disposition in CHARGES_FAILED:
            yield Event("detainer_charges_failed", ori, lodged)
        if detainer.expired_at is not None and detainer.hold_deadline is not None:
            yield Event("detainer_expired", ori, detainer.hold_deadline)
        if detainer.withdrawn_at is not None:
            yield Event("detainer_withdrawn", ori, detainer.withdrawn_at)
    if case.transferred_at is not None:
        yield Event("ice_arrest", ori, case.transferred_at)
        if citizen:
            yield Event("citizen_transferred", ori, case.transferred_at)
    if case.held_past_legal_end() and case.custody_ended_at is not None:
        yield Event("hold_past_legal_end", ori, case.custody_ended_at)
    if case.removed_at is not None:
        yield Event(removal_atom(case.removal_level), ori, case.removed_at)
    if case.unclassified_literals and case.unclassified_at is not None:
        yield Event("booking_unclassified_literal", ori, case.unclassified_at)


def base_counts(ledger: Ledger) -> dict[BaseKey, int]:
    """How many times each atom happened in each jurisdiction in each month."""
    counts: Counter[BaseKey] = Counter((e.atom, e.ori, month_of(e.at)) for e in events(ledger))
    return dict(counts)


def bounded_base_counts(
    ledger: Ledger, cells_per_person: int, per_cell: int = 1
) -> dict[BaseKey, int]:
    """The base counts with each person's contribution bounded, as a differentially
    private release needs for the privacy loss it states to hold for everyone: a person
    (the case's person key; a booking without one counts as a person of its own) adds at
    most `per_cell` to any base count and to at most `cells_per_person` base counts (their
    earliest events first; the rest of their events are left out). Switch changes are the
    acts of governments, not of people, and are counted whole."""
    by_person: dict[str, list[Event]] = {}
    for case in ledger.cases.values():
        key = case.person_key or f"case:{case.case_id}"
        by_person.setdefault(key, []).extend(_case_events(case))
    counts: Counter[BaseKey] = Counter()
    for own_events in by_person.values():
        own: Counter[BaseKey] = Counter()
        for event in sorted(own_events, key=lambda e: e.at):
            key_of = (event.atom, event.ori, month_of(event.at))
            if key_of not in own and len(own) >= cells_per_person:
                continue
            if own[key_of] < per_cell:
                own[key_of] += 1
        counts.update(own)
    counts.update((e.atom, e.ori, month_of(e.at)) for e in _switch_events(ledger))
    return dict(counts)


def layout_of(ledger: Ledger, base: dict[BaseKey, int] | None = None) -> Layout:
    """Every measure, every jurisdiction of the ledger, every month from the first event's
    to the last's (none when nothing happened)."""
    base = base_counts(ledger) if base is None else base
    months = sorted({month for (_, _, month) in base})
    window = months_between(months[0], months[-1]) if months else ()
    return Layout(
        measures=MEASURES,
        jurisdictions={ori: j.state for ori, j in sorted(ledger.jurisdictions.items())},
        months=window,
    )


def jurisdiction_table(ledger: Ledger) -> list[dict[str, str]]:
    """The roster: each jurisdiction with its state and activation date ("" if never)."""
    return [
        {
            "ori": j.ori,
            "name": j.name,
            "state": j.state,
            "activated": j.activated_at.date().isoformat() if j.activated_at else "",
        }
        for _, j in sorted(ledger.jurisdictions.items())
    ]
