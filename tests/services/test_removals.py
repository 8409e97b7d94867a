"""After the transfer, on fakes: ICE books the person in (`services.removals`, through the
field office), the immigration court hears the case (`services.eoir`), ICE carries out
the order; every step a case-state entry, each removal with the level of the convictions
ICE knew that day."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fakes import ORI, FakeUnitOfWork, case, context, message_fields

from scomm.api.server import without_delays
from scomm.config import Settings
from scomm.domain.case import CASE_TRANSITIONS, CaseState, CustodyState
from scomm.domain.clock import ScenarioClock
from scomm.domain.immigration import BenefitKind, BenefitRecord, RecordedStatus
from scomm.domain.messages import (
    Actor,
    CourtDisposition,
    DispositionOutcome,
    HearingDue,
    ImmigrationJudgeOrder,
    NoticeToAppear,
    RemovalDue,
    Transfer,
)
from scomm.domain.records import (
    CriminalSubmission,
    DetainerRecord,
    DetainerStatus,
    Encounter,
    EncounterKind,
    Repository,
    Subject,
)
from scomm.domain.removals import Days, RemovalPolicy
from scomm.services.cjis import CriminalJusticeInformationServices, criminal_record
from scomm.services.eoir import ImmigrationCourt
from scomm.services.ero import FieldOffice
from scomm.services.ice_reads import DECIDED
from scomm.services.lea import BookingJail

NOW = datetime(2011, 6, 1, 9)
BOOKED = NOW - timedelta(days=3)
A_NUMBER = "A12345678"
# every draw decides one way: detained, heard, no counsel, no relief
ALWAYS = RemovalPolicy(
    detention_share=1.0,
    hearing_share=1.0,
    counsel_share=0.0,
    relief_with_counsel=0.0,
    relief_without_counsel=0.0,
)


def settings(policy: RemovalPolicy = ALWAYS) -> Settings:
    return Settings(seed=3, removal_policy=policy)


def person(
    status: RecordedStatus | None = RecordedStatus.VISA_OVERSTAY,
    booked_pob: str = "MM",
    record_pob: str = "MM",
    convictions: tuple[str, ...] = (),
    charges: tuple[str, ...] = ("BURGLARY",),
    state: CaseState = CaseState.DETAINER_LODGED,
) -> FakeUnitOfWork:
    """A uow holding a case ICE has a detainer on, with its records: the CAR CJIS kept,
    the III record (convictions on file, this booking's arrest charges) and the IDENT
    record (`status` None: no IDENT record)."""
    uow = FakeUnitOfWork(ScenarioClock(NOW))
    case(
        uow,
        state=state,
        custody=CustodyState.TRANSFERRED_TO_ICE,
        fbi_number="FBI-1",
        ident_id="ID-1" if status else None,
        opened_at=BOOKED,
    )
    uow.submissions.add(
        CriminalSubmission(
            tcn="T-case-1",
            case_id="case-1",
            booking_ori=ORI,
            received_at=BOOKED,
            name="DOE,JANE",
            dob=date(1980, 1, 1),
            sex="F",
            pob=booked_pob,
            offense_code="2299",
            offense_confidence=1.0,
            fbi_number="FBI-1",
            identified=True,
        )
    )
    criminal = uow.identities(Repository.CRIMINAL)
    for literal in convictions:
        criminal.add_encounter(
            Encounter(
                Repository.CRIMINAL,
                "FBI-1",
                datetime(2005, 1, 1),
                EncounterKind.CONVICTION,
                literal,
            )
        )
    for literal in charges:
        criminal.add_encounter(
            Encounter(Repository.CRIMINAL, "FBI-1", BOOKED, EncounterKind.ARREST, literal, ORI)
        )
    if status is not None:
        uow.identities(Repository.IMMIGRATION).enrol(
            Subject(
                Repository.IMMIGRATION,
                "ID-1",
                "DOE,JANE",
                date(1980, 1, 1),
                "F",
                record_pob,
                datetime(2001, 1, 1),
                a_number=A_NUMBER,
                recorded_status=status,
            ),
            {},
            "stub-engine",
        )
    return uow


def transfer() -> Transfer:
    return Transfer(**message_fields(sender=Actor.LEA, recipient=Actor.ERO), detainer_id="det-1")


def ero(policy: RemovalPolicy = ALWAYS) -> FieldOffice:
    return FieldOffice(context(settings(policy)))


def court(policy: RemovalPolicy = ALWAYS) -> ImmigrationCourt:
    return ImmigrationCourt(context(settings(policy)))


def moves(uow: FakeUnitOfWork) -> list[str]:
    return uow.names("case_state")


def run_to_the_end(uow: FakeUnitOfWork, policy: RemovalPolicy = ALWAYS) -> None:
    """Deliver what ERO and the court send each other, in time order, from a transfer."""
    pending = [(uow.now, transfer())]
    handlers: dict[Actor, Any] = {Actor.ERO: ero(policy), Actor.EOIR: court(policy)}
    while pending:
        pending.sort(key=lambda p: p[0])
        at, message = pending.pop(0)
        assert isinstance(uow.clock, ScenarioClock)
        uow.clock.advance_to(at)
        before = len(uow.outbox)
        uow.handling(message.message_id)
        handlers[message.recipient].handle(message, uow)
        pending += [(s.available_at, s.message) for s in uow.outbox[before:]]


# -- ICE takes custody --


def test_a_detained_person_gets_a_notice_to_appear() -> None:
    uow = person()
    ero().handle(transfer(), uow)
    assert moves(uow) == ["ice_custody", "in_proceedings"]
    (booked_in,) = uow.entries("case_state", "ice_custody")
    assert booked_in.payload["detained"] is True
    assert booked_in.payload["track"] == "hearing"
    assert booked_in.payload["recorded_status"] == "visa_overstay"
    (nta,) = uow.sent("NTA")
    assert isinstance(nta, NoticeToAppear)
    assert (nta.sender, nta.recipient, nta.detained) == (Actor.ERO, Actor.EOIR, True)
    assert uow.cases.get("case-1").state is CaseState.IN_PROCEEDINGS


def test_a_person_not_detained_is_released_on_bond_and_the_flow_ends() -> None:
    uow = person()
    ero(RemovalPolicy(detention_share=0.0)).handle(transfer(), uow)
    assert moves(uow) == ["ice_custody", "released_on_bond"]
    assert uow.names("outcome") == ["released_by_ice"]
    assert uow.sent() == []


def test_a_prior_removal_order_is_reinstated_without_a_hearing() -> None:
    uow = person(RecordedStatus.PREVIOUSLY_REMOVED)
    ero().handle(transfer(), uow)
    assert moves(uow) == ["ice_custody", "removal_ordered"]
    (due,) = uow.outbox
    assert isinstance(due.message, RemovalDue) and due.message.track == "reinstatement"
    assert due.message.recipient is Actor.ERO
    days = ALWAYS.fast_track_days
    assert timedelta(days=days.minimum) <= due.available_at - NOW <= timedelta(days=days.maximum)


def test_others_not_heard_leave_by_a_stipulated_removal_or_voluntary_return() -> None:
    uow = person()
    ero(RemovalPolicy(detention_share=1.0, hearing_share=0.0)).handle(transfer(), uow)
    assert moves(uow) == ["ice_custody", "removal_ordered"]
    assert uow.sent("REMOVAL_DUE")[0].track == "stipulated_or_voluntary"  # type: ignore[attr-defined]


def test_a_permanent_resident_always_goes_before_a_judge() -> None:
    uow = person(RecordedStatus.LAWFUL_PERMANENT_RESIDENT)
    ero(RemovalPolicy(detention_share=1.0, hearing_share=0.0)).handle(transfer(), uow)
    assert moves(uow) == ["ice_custody", "in_proceedings"]


@pytest.mark.parametrize(
    ("status", "booked_pob", "benefit", "evidence"),
    [
        (
            RecordedStatus.LAWFUL_PERMANENT_RESIDENT,
            "MM",
            BenefitKind.NATURALIZATION,
            "naturalization",
        ),
        (
            RecordedStatus.VISA_OVERSTAY,
            "MM",
            BenefitKind.DERIVED_CITIZENSHIP,
            "derived_citizenship",
        ),
        (RecordedStatus.VISA_OVERSTAY, "TX", None, "born in TX"),
    ],
)
def test_a_claim_of_citizenship_on_the_record_goes_before_a_judge_detained(
    status: RecordedStatus, booked_pob: str, benefit: BenefitKind | None, evidence: str
) -> None:
    uow = person(status, booked_pob=booked_pob)
    if benefit is not None:
        uow.benefits.add(BenefitRecord(A_NUMBER, benefit, datetime(2008, 5, 1)))
    # neither detention nor the fast track applies to a claim
    ero(RemovalPolicy(detention_share=0.0, hearing_share=0.0)).handle(transfer(), uow)
    assert moves(uow) == ["ice_custody", "in_proceedings"]
    (nta,) = uow.sent("NTA")
    assert isinstance(nta, NoticeToAppear)
    assert nta.track == "citizenship_claim" and evidence in nta.citizenship_evidence


def test_a_place_of_birth_the_record_shares_is_no_claim() -> None:
    """Booked as born in "IN", matched to a record that says "IN" too: the same person."""
    uow = person(booked_pob="IN", record_pob="IN")
    ero().handle(transfer(), uow)
    assert uow.sent("NTA")[0].citizenship_evidence == ""  # type: ignore[attr-defined]


def test_a_repeated_transfer_changes_nothing() -> None:
    uow = person(state=CaseState.IN_PROCEEDINGS)
    ero().handle(transfer(), uow)
    assert moves(uow) == [] and uow.sent() == []
    assert uow.names("received") == ["TRANSFER"]


# -- the immigration court --


def nta(track: str = "hearing", evidence: str = "") -> NoticeToAppear:
    return NoticeToAppear(
        **message_fields(sender=Actor.ERO, recipient=Actor.EOIR),
        track=track,
        detained=True,
        citizenship_evidence=evidence,
    )


def hearing(track: str = "hearing") -> HearingDue:
    return HearingDue(**message_fields(sender=Actor.EOIR, recipient=Actor.EOIR), track=track)


@pytest.mark.parametrize(("track", "days"), [("hearing", 35.0), ("citizenship_claim", 3.0)])
def test_the_court_sets_the_hearing_after_the_policys_days(track: str, days: float) -> None:
    fixed = RemovalPolicy(hearing_days=Days(35.0), claim_days=Days(3.0))
    uow = person(state=CaseState.IN_PROCEEDINGS)
    court(fixed).handle(nta(track), uow)
    (due,) = uow.outbox
    assert isinstance(due.message, HearingDue) and due.message.recipient is Actor.EOIR
    assert due.available_at == NOW + timedelta(days=days)
    (scheduled,) = uow.entries("decision", "HEARING_SCHEDULED")
    assert scheduled.payload["hearing_at"] == due.available_at.isoformat()


def judged(uow: FakeUnitOfWork, policy: RemovalPolicy = ALWAYS) -> ImmigrationJudgeOrder:
    court(policy).handle(hearing(), uow)
    (order,) = uow.sent("IJ_ORDER")
    assert isinstance(order, ImmigrationJudgeOrder) and order.recipient is Actor.ERO
    return order


def test_the_judge_orders_the_removal_of_a_removable_person() -> None:
    uow = person(state=CaseState.IN_PROCEEDINGS)
    assert judged(uow).judgment == "removal_ordered"
    assert moves(uow) == ["removal_ordered"]
    assert uow.entries("case_state", "removal_ordered")[0].actor == "eoir"


def test_relief_is_granted_by_the_draw() -> None:
    uow = person(state=CaseState.IN_PROCEEDINGS)
    generous = RemovalPolicy(counsel_share=0.0, relief_without_counsel=1.0)
    assert judged(uow, generous).judgment == "relief_granted"
    assert moves(uow) == ["relief_granted"]


def test_a_citizen_is_never_ordered_removed() -> None:
    uow = person(
        RecordedStatus.LAWFUL_PERMANENT_RESIDENT,
        convictions=("ROBBERY",),
        state=CaseState.IN_PROCEEDINGS,
    )
    uow.benefits.add(BenefitRecord(A_NUMBER, BenefitKind.NATURALIZATION, datetime(2008, 5, 1)))
    order = judged(uow)
    assert order.judgment == "terminated" and "citizen" in order.reason
    assert moves(uow) == ["terminated"]


@pytest.mark.parametrize(
    ("convictions", "judgment"),
    [((), "terminated"), (("SIMPLE ASSAULT",), "terminated"), (("ROBBERY",), "removal_ordered")],
)
def test_a_permanent_resident_is_ordered_removed_only_on_a_removable_conviction(
    convictions: tuple[str, ...], judgment: str
) -> None:
    uow = person(
        RecordedStatus.LAWFUL_PERMANENT_RESIDENT,
        convictions=convictions,
        state=CaseState.IN_PROCEEDINGS,
    )
    assert judged(uow).judgment == judgment


def test_an_adjustment_of_status_on_record_makes_a_permanent_resident() -> None:
    uow = person(RecordedStatus.VISA_OVERSTAY, state=CaseState.IN_PROCEEDINGS)
    uow.benefits.add(
        BenefitRecord(A_NUMBER, BenefitKind.ADJUSTMENT_OF_STATUS, datetime(2009, 1, 1))
    )
    order = judged(uow)
    assert order.judgment == "terminated" and "permanent resident" in order.reason


def test_a_hearing_for_a_case_no_longer_in_proceedings_does_nothing() -> None:
    uow = person(state=CaseState.REMOVAL_ORDERED)
    court().handle(hearing(), uow)
    assert uow.sent() == [] and moves(uow) == []


def test_the_court_handles_only_its_messages() -> None:
    with pytest.raises(ValueError, match="immigration court"):
        court().handle(transfer(), person())


# -- ICE carries out the order --


def order(judgment: str, track: str = "hearing") -> ImmigrationJudgeOrder:
    return ImmigrationJudgeOrder(
        **message_fields(sender=Actor.EOIR, recipient=Actor.ERO),
        judgment=judgment,
        counsel=False,
        reason="the judge's reason",
        track=track,
    )


def test_a_removal_order_is_carried_out_after_the_policys_days() -> None:
    uow = person(state=CaseState.REMOVAL_ORDERED)
    ero(RemovalPolicy(removal_days=Days(9.0))).handle(order("removal_ordered"), uow)
    (due,) = uow.outbox
    assert isinstance(due.message, RemovalDue) and due.available_at == NOW + timedelta(days=9)
    assert uow.names("outcome") == []


@pytest.mark.parametrize("judgment", ["relief_granted", "terminated"])
def test_relief_or_termination_releases_the_person(judgment: str) -> None:
    uow = person(state=CaseState(judgment))
    ero().handle(order(judgment), uow)
    assert uow.sent() == []
    assert uow.names("outcome") == ["released_by_ice"]


def removal_due(track: str = "hearing") -> RemovalDue:
    return RemovalDue(**message_fields(sender=Actor.ERO, recipient=Actor.ERO), track=track)


@pytest.mark.parametrize(
    ("convictions", "level"),
    [((), 0), (("SIMPLE ASSAULT",), 3), (("ROBBERY",), 1)],
)
def test_a_removal_names_the_level_of_the_convictions_known_that_day(
    convictions: tuple[str, ...], level: int
) -> None:
    uow = person(convictions=convictions, state=CaseState.REMOVAL_ORDERED)
    ero().handle(removal_due(), uow)
    assert moves(uow) == ["removed"]
    (removed,) = uow.entries("case_state", "removed")
    assert removed.payload["level"] == level
    assert removed.payload["rule_set"] == "2011-conviction-based"
    assert removed.payload["track"] == "hearing"
    (outcome,) = uow.entries("outcome", "removed")
    assert outcome.payload == {"level": level, "rule_set": "2011-conviction-based"}


def test_a_removal_order_is_not_carried_out_on_a_citizen() -> None:
    uow = person(state=CaseState.REMOVAL_ORDERED, booked_pob="CA")
    ero().handle(removal_due("stipulated_or_voluntary"), uow)
    assert moves(uow) == ["terminated"]
    assert uow.names("outcome") == ["released_by_ice"]


def test_a_late_removal_timer_does_nothing() -> None:
    uow = person(state=CaseState.REMOVED)
    ero().handle(removal_due(), uow)
    assert moves(uow) == [] and uow.names("outcome") == []


# -- a conviction while ICE holds the person --


def convicted(outcome: DispositionOutcome = DispositionOutcome.CONVICTED) -> CourtDisposition:
    return CourtDisposition(
        **message_fields(sender=Actor.LEA, recipient=Actor.ERO),
        outcome=outcome,
        decided_at=NOW - timedelta(days=1),
    )


def test_a_conviction_of_a_person_ice_holds_counts_at_the_removal() -> None:
    uow = person(charges=("ROBBERY",), state=CaseState.REMOVAL_ORDERED)
    ero().handle(convicted(), uow)
    (noted,) = uow.entries("decision", "CONVICTION_NOTED")
    assert noted.payload["charges"] == ["ROBBERY"]
    ident = uow.identities(Repository.IMMIGRATION).encounters("ID-1")
    assert [(e.kind, e.detail) for e in ident] == [(EncounterKind.CONVICTION, "ROBBERY")]
    ero().handle(removal_due(), uow)
    assert uow.entries("case_state", "removed")[0].payload["level"] == 1


def test_a_dismissal_or_a_finished_case_notes_no_conviction() -> None:
    uow = person(state=CaseState.REMOVAL_ORDERED)
    ero().handle(convicted(DispositionOutcome.DISMISSED), uow)
    done = person(state=CaseState.REMOVED)
    ero().handle(convicted(), done)
    for each in (uow, done):
        assert each.entries("decision", "CONVICTION_NOTED") == []
        assert each.identities(Repository.IMMIGRATION).encounters("ID-1") == []


def jail_disposition(outcome: DispositionOutcome) -> CourtDisposition:
    return CourtDisposition(
        **message_fields(sender=Actor.COURT, recipient=Actor.LEA), outcome=outcome, decided_at=NOW
    )


@pytest.mark.parametrize(
    ("state", "outcome", "to_ice"),
    [
        (CaseState.IN_PROCEEDINGS, DispositionOutcome.CONVICTED, 1),
        (CaseState.REMOVAL_ORDERED, DispositionOutcome.CONVICTED, 1),
        (CaseState.IN_PROCEEDINGS, DispositionOutcome.DISMISSED, 0),
        (CaseState.REMOVED, DispositionOutcome.CONVICTED, 0),
        (CaseState.RELEASED_ON_BOND, DispositionOutcome.CONVICTED, 0),
    ],
)
def test_the_jail_tells_ice_of_a_conviction_of_a_person_it_holds(
    state: CaseState, outcome: DispositionOutcome, to_ice: int
) -> None:
    uow = person(state=state)
    uow.detainers.add(
        DetainerRecord(
            "det-1", "case-1", "I-247", BOOKED, "simulated:x", DetainerStatus.TRANSFERRED
        )
    )
    BookingJail(context(Settings(seed=3))).handle(jail_disposition(outcome), uow)
    sent = [m for m in uow.sent("DISPOSITION") if m.recipient is Actor.ERO]
    assert len(sent) == to_ice


# -- the whole of it --


def test_from_the_transfer_to_the_removal_every_step_is_on_record() -> None:
    uow = person(convictions=("SIMPLE ASSAULT",))
    run_to_the_end(uow)
    assert moves(uow) == ["ice_custody", "in_proceedings", "removal_ordered", "removed"]
    assert [s.message.type for s in uow.outbox] == ["NTA", "HEARING_DUE", "IJ_ORDER", "REMOVAL_DUE"]
    removed = uow.entries("case_state", "removed")[0]
    assert removed.payload["level"] == 3
    assert uow.now > NOW + timedelta(days=ALWAYS.hearing_days.minimum)


def test_a_citizen_on_a_stale_record_is_released_after_the_claim() -> None:
    uow = person(RecordedStatus.LAWFUL_PERMANENT_RESIDENT, convictions=("ROBBERY",))
    uow.benefits.add(BenefitRecord(A_NUMBER, BenefitKind.DERIVED_CITIZENSHIP, datetime(1999, 1, 1)))
    run_to_the_end(uow)
    assert moves(uow) == ["ice_custody", "in_proceedings", "terminated"]
    assert uow.names("outcome") == ["released_by_ice"]
    assert uow.now - NOW <= timedelta(days=ALWAYS.claim_days.maximum)


def test_a_case_ice_took_on_stays_decided_for_the_field_offices_queue() -> None:
    """ERO's queue of matches awaiting a decision (`services.ice_reads`) must not take a case
    back once it went on after the transfer."""
    after: set[CaseState] = set()
    frontier = [CaseState.DETAINER_LODGED]
    while frontier:
        state = frontier.pop()
        after.add(state)
        frontier += CASE_TRANSITIONS.get(state, frozenset()) - after
    assert after <= set(DECIDED)


def test_a_demonstration_service_takes_the_steps_at_once() -> None:
    """`scomm serve --no-delays`: no days between ICE's and the court's steps either."""
    quick = without_delays(settings()).removal_policy
    assert quick.hearing_days.draw(0.9) == quick.removal_days.draw(0.9) == timedelta(0)
    assert quick.detention_share == ALWAYS.detention_share


# -- a conviction reaches the III (the jail's final disposition report to CJIS) --


def reported(outcome: DispositionOutcome = DispositionOutcome.CONVICTED) -> CourtDisposition:
    return CourtDisposition(
        **message_fields(sender=Actor.LEA, recipient=Actor.CJIS),
        outcome=outcome,
        decided_at=NOW - timedelta(days=1),
    )


def test_cjis_puts_a_reported_conviction_on_the_iii_for_later_cases() -> None:
    uow = person(charges=("ROBBERY",), state=CaseState.REMOVAL_ORDERED)
    CriminalJusticeInformationServices(context(settings())).handle(reported(), uow)
    convictions = [
        (e.at, e.detail)
        for e in uow.identities(Repository.CRIMINAL).encounters("FBI-1")
        if e.kind is EncounterKind.CONVICTION
    ]
    assert convictions == [(NOW - timedelta(days=1), "ROBBERY")]
    (entry,) = uow.entries("received", "DISPOSITION")
    assert entry.actor == "cjis" and entry.payload["convictions"] == ["ROBBERY"]
    # a later booking's IAQ reads it from the record, and so does a removal
    later = dataclasses.replace(uow.submissions.get("T-case-1"), received_at=NOW)
    assert ("conviction", "ROBBERY") in [(e.kind, e.detail) for e in criminal_record(uow, later)]
    ero().handle(removal_due(), uow)
    assert uow.entries("case_state", "removed")[0].payload["level"] == 1


def test_a_dismissal_reported_to_cjis_changes_no_record() -> None:
    uow = person(state=CaseState.REMOVAL_ORDERED)
    CriminalJusticeInformationServices(context(settings())).handle(
        reported(DispositionOutcome.DISMISSED), uow
    )
    kinds = [e.kind for e in uow.identities(Repository.CRIMINAL).encounters("FBI-1")]
    assert EncounterKind.CONVICTION not in kinds
    ero().handle(removal_due(), uow)
    assert uow.entries("case_state", "removed")[0].payload["level"] == 0


def test_a_conviction_both_ice_and_the_iii_hold_counts_once() -> None:
    uow = person(charges=("SIMPLE ASSAULT",), state=CaseState.REMOVAL_ORDERED)
    ero().handle(convicted(), uow)
    CriminalJusticeInformationServices(context(settings())).handle(reported(), uow)
    ero().handle(removal_due(), uow)
    (removed,) = uow.entries("case_state", "removed")
    assert len(removed.payload["convictions"]) == 1
