"""ICE after the transfer (the field office's detention and removal side, ERO): it books
the person in, takes a track (a reinstated prior order, a stipulated removal or voluntary
return, or a notice to appear before the immigration court, `services.eoir`), carries out
removal orders and releases the others, each step after a drawn number of days
(`Settings.removal_policy`, seeded per case).

Every step moves the case along its identification track (`case_state` entries) and the
removal itself names the level of the convictions ICE knew that day under the
conviction-based rule set (`REMOVAL_LEVELS`), so that the audit log alone counts removals
by level and by month.

What ICE knows of the person is read from the records on the day it decides
(`removal_facts`): the matched IDENT record (status, A-number, place of birth), the USCIS
benefits on that A-number, the III record of convictions (`Repository.CRIMINAL`) and the
convictions ICE noted itself on the IDENT record when a court convicted a person in its
custody (`note_conviction`: the jail passes the disposition on).
"""

from __future__ import annotations

from collections import Counter

from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.domain.case import CaseState
from scomm.domain.immigration import BenefitKind, RecordedStatus
from scomm.domain.levels import CriminalFacts
from scomm.domain.messages import (
    Actor,
    CourtDisposition,
    DispositionOutcome,
    ImmigrationJudgeOrder,
    NoticeToAppear,
    RemovalDue,
    Transfer,
)
from scomm.domain.records import Case, Encounter, EncounterKind, Repository
from scomm.domain.removals import (
    REMOVAL_LEVELS,
    US_POB_CODES,
    Judgment,
    RemovalFacts,
    Track,
)
from scomm.services.common import load_case, move_case, record_outcome, reply, seeded_draw
from scomm.services.context import ServiceContext

ME = Actor.ERO

# the case states of a person ICE holds, whose proceedings are not over
ICE_OPEN = frozenset({CaseState.ICE_CUSTODY, CaseState.IN_PROCEEDINGS, CaseState.REMOVAL_ORDERED})


def removal_facts(uow: AbstractUnitOfWork, ctx: ServiceContext, case: Case) -> RemovalFacts:
    """What the records show of the person of `case` today."""
    subject = (
        uow.identities(Repository.IMMIGRATION).subject(case.ident_id) if case.ident_id else None
    )
    status = subject.recorded_status if subject is not None else None
    benefits = (
        uow.benefits.for_a_number(subject.a_number)
        if subject is not None and subject.a_number
        else []
    )
    evidence = ""
    citizenship = [
        b
        for b in benefits
        if b.kind in (BenefitKind.NATURALIZATION, BenefitKind.DERIVED_CITIZENSHIP)
    ]
    submission = uow.submissions.get(case.tcn)
    if status is RecordedStatus.NATURALIZED_CITIZEN:
        evidence = "IDENT records a naturalization"
    elif citizenship:
        first = min(citizenship, key=lambda b: b.granted_at)
        evidence = f"{first.kind.value} on record since {first.granted_at.date().isoformat()}"
    elif (
        submission is not None
        and submission.pob in US_POB_CODES
        and (subject is None or subject.pob != submission.pob)
    ):  # booked as born in a state, matched to a record of someone born elsewhere
        evidence = f"born in {submission.pob}"
    adjusted = any(b.kind is BenefitKind.ADJUSTMENT_OF_STATUS for b in benefits)
    codes = conviction_codes(uow, ctx, case)
    rules = ctx.rules
    level = rules.determine(
        rules.rule_set_named(REMOVAL_LEVELS), CriminalFacts(convictions=codes)
    ).level
    return RemovalFacts(
        recorded_status=status,
        citizenship_evidence=evidence,
        permanent_resident=adjusted or status is RecordedStatus.LAWFUL_PERMANENT_RESIDENT,
        conviction_codes=codes,
        conviction_level=level,
    )


def conviction_codes(uow: AbstractUnitOfWork, ctx: ServiceContext, case: Case) -> tuple[str, ...]:
    """NCIC codes of the convictions known today: the III's (FBI number of the case) and
    those ICE noted on the IDENT record that the III does not already hold (the jail's
    disposition report puts a conviction of a person ICE holds on both)."""
    iii: list[Encounter] = []
    noted: list[Encounter] = []
    if case.fbi_number:
        iii = uow.identities(Repository.CRIMINAL).encounters(case.fbi_number)
    if case.ident_id:
        noted = uow.identities(Repository.IMMIGRATION).encounters(case.ident_id)
    on_the_iii = Counter((e.at, e.detail) for e in iii if e.kind is EncounterKind.CONVICTION)
    found = [e.detail for e in iii if e.kind is EncounterKind.CONVICTION]
    for e in noted:
        if e.kind is EncounterKind.CONVICTION:
            if on_the_iii[(e.at, e.detail)] > 0:
                on_the_iii[(e.at, e.detail)] -= 1
            else:
                found.append(e.detail)
    return tuple(ctx.rules.classify(detail).ncic_code for detail in found)


class IceCustody:
    """The field office's part after the transfer (`FieldOffice` hands it these messages)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _draw(self, step: str, case_id: str) -> float:
        return seeded_draw(self.ctx.settings.seed, step, case_id)

    def take_custody(self, message: Transfer, uow: AbstractUnitOfWork) -> None:
        """ICE books the person in: detained or released on bond or recognizance; a
        detained person goes before the court, or has a prior order reinstated, or agrees
        to a stipulated removal or voluntary return."""
        case = uow.cases.get(message.case_id)
        if case is None or case.state is not CaseState.DETAINER_LODGED:
            return  # a repeated transfer: the first took the person
        policy = self.ctx.settings.removal_policy
        facts = removal_facts(uow, self.ctx, case)
        book_in = policy.book_in(
            facts, self._draw("ice-detention", case.case_id), self._draw("ice-track", case.case_id)
        )
        move_case(
            uow,
            case,
            CaseState.ICE_CUSTODY,
            ME,
            book_in.reason,
            detained=book_in.detained,
            track=book_in.track.value,
            policy=policy.name,
            recorded_status=facts.recorded_status.value if facts.recorded_status else None,
            citizenship_evidence=facts.citizenship_evidence,
            permanent_resident=facts.permanent_resident,
            conviction_level=facts.conviction_level,
        )
        if not book_in.detained:
            move_case(uow, case, CaseState.RELEASED_ON_BOND, ME, book_in.reason)
            record_outcome(uow, case.case_id, "released_by_ice", ME, reason=book_in.reason)
            return
        if book_in.track in (Track.HEARING, Track.CITIZENSHIP_CLAIM):
            move_case(uow, case, CaseState.IN_PROCEEDINGS, ME, "notice to appear filed")
            uow.emit(
                reply(
                    uow,
                    message,
                    NoticeToAppear,
                    ME,
                    Actor.EOIR,
                    track=book_in.track.value,
                    detained=True,
                    citizenship_evidence=facts.citizenship_evidence,
                )
            )
            return
        move_case(
            uow, case, CaseState.REMOVAL_ORDERED, ME, book_in.reason, track=book_in.track.value
        )
        after = policy.fast_track_days.draw(self._draw("ice-fast-track", case.case_id))
        uow.emit(reply(uow, message, RemovalDue, ME, ME, track=book_in.track.value), delay=after)

    def on_order(self, message: ImmigrationJudgeOrder, uow: AbstractUnitOfWork) -> None:
        """The judge's order: a removal follows; relief or termination releases."""
        case = load_case(uow, message.case_id)
        uow.record(
            "received",
            message.type,
            ME.value,
            case.case_id,
            {"message_id": message.message_id, "judgment": message.judgment},
        )
        if Judgment(message.judgment) is Judgment.REMOVAL_ORDERED:
            policy = self.ctx.settings.removal_policy
            after = policy.removal_days.draw(self._draw("ice-removal", case.case_id))
            uow.emit(reply(uow, message, RemovalDue, ME, ME, track=message.track), delay=after)
        else:
            record_outcome(uow, case.case_id, "released_by_ice", ME, reason=message.reason)

    def on_removal_due(self, message: RemovalDue, uow: AbstractUnitOfWork) -> None:
        """Carry out the order, unless the record of the day forbids it (a citizen, a lawful
        status without a removable conviction): then the proceedings end."""
        case = load_case(uow, message.case_id)
        if case.state is not CaseState.REMOVAL_ORDERED:
            return
        policy = self.ctx.settings.removal_policy
        facts = removal_facts(uow, self.ctx, case)
        if why := policy.may_remove(facts):
            move_case(uow, case, CaseState.TERMINATED, ME, f"not removed: {why}")
            record_outcome(uow, case.case_id, "released_by_ice", ME, reason=why)
            return
        rules = self.ctx.rules
        found = rules.determine(
            rules.rule_set_named(REMOVAL_LEVELS),
            CriminalFacts(convictions=facts.conviction_codes),
        )
        move_case(
            uow,
            case,
            CaseState.REMOVED,
            ME,
            f"removed ({message.track})",
            track=message.track,
            level=found.level,
            rule_set=found.rule_set,
            level_basis=found.basis,
            convictions=list(facts.conviction_codes),
        )
        record_outcome(uow, case.case_id, "removed", ME, level=found.level, rule_set=found.rule_set)

    def note_conviction(self, message: CourtDisposition, uow: AbstractUnitOfWork) -> None:
        """A court convicted a person ICE holds or has a detainer on: the booking's charges
        become convictions on ICE's record (the IDENT record's encounters), which the
        removal's level counts."""
        if message.outcome is not DispositionOutcome.CONVICTED:
            return
        case = uow.cases.get(message.case_id)
        if case is None:
            return
        wanted = case.state in ICE_OPEN or case.state is CaseState.DETAINER_LODGED
        if not wanted or not case.ident_id or not case.fbi_number:
            return
        submission = uow.submissions.get(case.tcn)
        if submission is None:
            return
        charges = [
            e.detail
            for e in uow.identities(Repository.CRIMINAL).encounters(case.fbi_number)
            if e.kind is EncounterKind.ARREST and e.at == submission.received_at
        ]
        identities = uow.identities(Repository.IMMIGRATION)
        for literal in charges:
            identities.add_encounter(
                Encounter(
                    Repository.IMMIGRATION,
                    case.ident_id,
                    message.decided_at,
                    EncounterKind.CONVICTION,
                    literal,
                    case.ori,
                )
            )
        uow.record(
            "decision",
            "CONVICTION_NOTED",
            ME.value,
            case.case_id,
            {"charges": charges, "decided_at": message.decided_at.isoformat()},
        )
