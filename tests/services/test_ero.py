"""The ERO field office on fakes: the officer's decision on a match and its record
(safeguard (c)), the detainer form of the period, the withdrawal on dismissal (safeguard
(b)) and the pickup it schedules when a hold starts."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fakes import ORI, FakeUnitOfWork, case, context, message_fields

from scomm.config import Settings
from scomm.domain.case import CaseState
from scomm.domain.clock import ScenarioClock
from scomm.domain.immigration import RecordedStatus, Removability
from scomm.domain.messages import (
    Actor,
    CourtDisposition,
    CustodyPickup,
    Detainer,
    DetainerWithdrawn,
    DispositionOutcome,
    HoldStarted,
    IdentMatch,
    MatchNotification,
    NotificationRequest,
    Transfer,
)
from scomm.domain.policies import OfficerAction
from scomm.domain.records import DetainerRecord, DetainerStatus
from scomm.domain.safeguards import Safeguards
from scomm.services.ero import FieldOffice, MissingOfficerDecision

A_NUMBER = "A12345678"


def office(**safeguards: bool) -> FieldOffice:
    return FieldOffice(context(Settings(seed=3, safeguards=Safeguards(**safeguards))))


def notification(**changes: Any) -> MatchNotification:
    base = MatchNotification(
        **message_fields(sender=Actor.CJIS, recipient=Actor.ERO),
        booking_ori=ORI,
        ident_id="ID-1",
        recorded_status=RecordedStatus.VISA_OVERSTAY,
        removability=Removability.REMOVABLE,
        level=1,
        rule_set="2011-conviction-based",
        level_basis="aggravated felony conviction 1299",
        a_number=A_NUMBER,
        name="DOE,JANE",
        dob=date(1980, 1, 1),
        pob="MM",
    )
    return dataclasses.replace(base, **changes)


def decide(
    day: datetime = datetime(2011, 6, 1, 9), office_: FieldOffice | None = None, **changes: Any
) -> FakeUnitOfWork:
    uow = FakeUnitOfWork(ScenarioClock(day))
    case(uow, state=CaseState.IAR_RETURNED)
    (office_ or office()).handle(notification(**changes), uow)
    return uow


@pytest.mark.parametrize("on", [True, False])
def test_a_detainer_points_at_its_recorded_officer_decision(on: bool) -> None:
    uow = decide(office_=office(officer_decision_required=on))
    (sent,) = uow.sent()
    assert isinstance(sent, Detainer) and sent.recipient is Actor.LEA
    delay = Settings().delays.ero_decision
    assert uow.outbox[0].available_at == uow.now + delay
    assert sent.form == "I-247"
    assert sent.decided_by == "simulated:sim-officer-v1"
    assert sent.rule_set == "2011-conviction-based"
    assert sent.fields  # the form's fields, filled in
    record = uow.detainers.get(sent.detainer_id)
    assert record is not None and record.rule_set == "2011-conviction-based"
    assert record.status is DetainerStatus.LODGED and record.lodged_at == uow.now + delay
    found = uow.cases.get("case-1")
    assert found is not None and found.state is CaseState.DETAINER_LODGED
    decisions = uow.officer_decisions.all
    if on:
        assert sent.decision_id == decisions[0].decision_id is not None
        assert decisions[0].action is OfficerAction.LODGE_DETAINER
        assert "OFFICER_DECISION_ON_RECORD" in uow.names("safeguard")
    else:
        assert sent.decision_id is None and decisions == []
    (entry,) = uow.entries("decision", "LODGE_DETAINER")
    assert entry.payload["simulated"] is True and entry.payload["decision_id"] == sent.decision_id


def test_a_detainer_never_goes_out_without_its_decision_on_record() -> None:
    """Safeguard (c) checks the record it has just written before lodging."""

    class Forgetful:
        def add(self, decision: object) -> None:
            pass

        def find(self, case_id: str, decision_id: str | None) -> None:
            return None

    uow = FakeUnitOfWork()
    uow.officer_decisions = Forgetful()  # type: ignore[assignment]
    case(uow, state=CaseState.IAR_RETURNED)
    with pytest.raises(MissingOfficerDecision):
        office().handle(notification(), uow)
    assert uow.sent("DETAINER") == []


@pytest.mark.parametrize(
    ("day", "hold_allowed", "message_type", "form"),
    [
        (datetime(2011, 6, 1), True, "DETAINER", "I-247"),
        (datetime(2013, 6, 1), True, "DETAINER", "I-247-2012"),
        (datetime(2016, 6, 1), True, "DETAINER", "I-247D"),
        # PEP: no hold for this subject, so the officer's hold becomes an I-247N
        (datetime(2016, 6, 1), False, "NOTIFICATION_REQUEST", "I-247N"),
        (datetime(2018, 6, 1), True, "DETAINER", "I-247A"),
    ],
)
def test_the_detainer_form_follows_the_date(
    day: datetime, hold_allowed: bool, message_type: str, form: str
) -> None:
    uow = decide(day, hold_allowed=hold_allowed, rule_set="2014-pep-priorities")
    (sent,) = uow.sent()
    assert sent.type == message_type
    assert isinstance(sent, Detainer | NotificationRequest) and sent.form == form


@pytest.mark.parametrize(
    ("removability", "action", "state"),
    [
        (Removability.NOT_REMOVABLE, OfficerAction.NO_ACTION, CaseState.NO_ACTION),
        (Removability.STATUS_UNRESOLVED, OfficerAction.NO_ACTION, CaseState.NO_ACTION),
        (
            Removability.UNDETERMINED,
            OfficerAction.REQUEST_NOTIFICATION,
            CaseState.NOTIFICATION_REQUESTED,
        ),
    ],
)
def test_no_detainer_for_someone_not_shown_removable(
    removability: Removability, action: OfficerAction, state: CaseState
) -> None:
    uow = decide(removability=removability)
    found = uow.cases.get("case-1")
    assert found is not None and found.state is state
    assert uow.sent("DETAINER") == [] and uow.detainers.by_id == {}
    assert uow.names("decision") == [action.value.upper()]
    assert len(uow.sent("NOTIFICATION_REQUEST")) == int(
        action is OfficerAction.REQUEST_NOTIFICATION
    )


def test_the_officers_decision_is_the_same_on_a_replay() -> None:
    first = decide(level=3, severity=3)
    second = decide(level=3, severity=3)
    assert first.names("decision") == second.names("decision")
    assert first.sent_types() == second.sent_types()


# -- (b) withdrawal on dismissal --


def pending(uow: FakeUnitOfWork, status: DetainerStatus) -> DetainerRecord:
    record = DetainerRecord(
        detainer_id="det-1",
        case_id="case-1",
        form="I-247",
        lodged_at=uow.now,
        decided_by="simulated:sim-officer-v1",
        status=status,
    )
    uow.detainers.add(record)
    return record


def disposition(outcome: DispositionOutcome) -> CourtDisposition:
    return CourtDisposition(
        **message_fields(sender=Actor.LEA, recipient=Actor.ERO),
        outcome=outcome,
        decided_at=datetime(2011, 6, 1, 9),
    )


@pytest.mark.parametrize("on", [True, False])
def test_a_dismissal_withdraws_the_pending_detainer(on: bool) -> None:
    uow = FakeUnitOfWork()
    record = pending(uow, DetainerStatus.HONOURED)
    office(withdraw_on_dismissal=on).handle(disposition(DispositionOutcome.DISMISSED), uow)
    assert uow.names("received") == ["DISPOSITION"]
    if on:
        assert record.status is DetainerStatus.WITHDRAWN and record.withdrawn_at == uow.now
        (withdrawn,) = uow.sent()
        assert isinstance(withdrawn, DetainerWithdrawn) and withdrawn.recipient is Actor.LEA
        assert withdrawn.reason == "charges dismissed on 2011-06-01"
        assert uow.names("safeguard") == ["WITHDRAW_ON_DISMISSAL"]
    else:
        assert record.status is DetainerStatus.HONOURED and uow.outbox == []


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (DispositionOutcome.CONVICTED, DetainerStatus.HONOURED),
        (DispositionOutcome.DISMISSED, DetainerStatus.TRANSFERRED),
        (DispositionOutcome.ACQUITTED, DetainerStatus.DECLINED),
    ],
)
def test_only_a_pending_detainer_is_withdrawn_and_only_on_dismissal_or_acquittal(
    outcome: DispositionOutcome, status: DetainerStatus
) -> None:
    uow = FakeUnitOfWork()
    record = pending(uow, status)
    office().handle(disposition(outcome), uow)
    assert record.status is status and uow.outbox == []


# -- the pickup --


def test_a_hold_brings_officers_some_hours_later_the_same_on_a_replay() -> None:
    delays = Settings().delays
    times = []
    for _ in range(2):
        uow = FakeUnitOfWork()
        started = HoldStarted(
            **message_fields(sender=Actor.LEA, recipient=Actor.ERO),
            detainer_id="det-1",
            deadline=uow.now + timedelta(hours=48),
        )
        office().handle(started, uow)
        (sent,) = uow.outbox
        assert isinstance(sent.message, CustodyPickup) and sent.message.detainer_id == "det-1"
        assert uow.now + delays.pickup_min <= sent.available_at <= uow.now + delays.pickup_max
        times.append(sent.available_at)
    assert times[0] == times[1]


def test_the_jails_answers_are_recorded_as_received() -> None:
    uow = FakeUnitOfWork()
    transfer = Transfer(**message_fields(sender=Actor.LEA, recipient=Actor.ERO), detainer_id="d")
    office().handle(transfer, uow)
    assert uow.entries("received", "TRANSFER")[0].payload == {"message_id": transfer.message_id}


def test_ero_handles_only_its_messages() -> None:
    match = IdentMatch(
        **message_fields(sender=Actor.IDENT, recipient=Actor.ERO), ident_id="I", candidates=()
    )
    with pytest.raises(ValueError, match="ERO does not handle IDR_MATCH"):
        office().handle(match, FakeUnitOfWork())
