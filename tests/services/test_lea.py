"""The booking jail on fakes: the booking, its detainer policy under switch D, the 48-hour
hold, pickup, release and the court's disposition; timers that come late do nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from fakes import ORI, FakeUnitOfWork, case, context, jurisdiction, message_fields

from scomm.bus.unit_of_work import PAYLOAD_SHA256, render
from scomm.config import Settings
from scomm.domain.case import CaseState, CustodyState
from scomm.domain.clock import ScenarioClock
from scomm.domain.messages import (
    Actor,
    CourtDisposition,
    CriminalTenprintSubmission,
    CustodyPickup,
    Detainer,
    DetainerResponse,
    DetainerWithdrawn,
    DispositionOutcome,
    HoldExpired,
    HoldStarted,
    IdentMatch,
    NotificationRequest,
    Release,
    ReleaseDue,
    SubmissionResults,
    TransactionErrorResponse,
    Transfer,
)
from scomm.domain.policies import DetainerPolicy
from scomm.domain.records import Booking, Charge, DetainerRecord, DetainerStatus
from scomm.domain.safeguards import Safeguards
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting
from scomm.services.lea import BookingJail, BookingRefused, TcnAlreadyUsed

NOW = datetime(2011, 6, 1, 9)  # a Wednesday


def jail(**safeguards: bool) -> BookingJail:
    return BookingJail(context(Settings(seed=3, safeguards=Safeguards(**safeguards))))


def a_booking(tcn: str = "CA0010000-000001", ori: str = ORI) -> Booking:
    return Booking(
        booking_id=f"BK-{tcn}",
        tcn=tcn,
        ori=ori,
        booked_at=NOW,
        release_due_at=NOW + timedelta(days=2),
        name="DOE,JANE",
        dob=date(1980, 1, 1),
        sex="F",
        pob="MM",
        charges=(Charge("BURGLARY", date(2011, 5, 31)), Charge("TRESPASS", date(2011, 5, 31))),
    )


def world(policy: DetainerPolicy = DetainerPolicy.HONOR_ALL) -> FakeUnitOfWork:
    uow = FakeUnitOfWork(ScenarioClock(NOW))
    uow.jurisdictions.add(jurisdiction(policy=policy))
    return uow


# -- the booking --


def test_a_booking_opens_a_case_and_sends_the_car_to_the_sib() -> None:
    uow = world()
    booked = jail().book(uow, a_booking(), b"CAR BYTES")
    found = uow.cases.get(booked.case_id)
    assert found is not None and found.tcn == booked.tcn == "CA0010000-000001"
    assert (found.state, found.custody) == (CaseState.BOOKED, CustodyState.IN_CUSTODY)
    assert uow.bookings.tcn_used(booked.tcn)
    (entry,) = uow.entries("booking", "BOOKED")
    assert entry.payload["charges"] == ["BURGLARY", "TRESPASS"]
    car, due = uow.outbox
    assert isinstance(car.message, CriminalTenprintSubmission)
    assert car.message.recipient is Actor.SIB and car.message.transaction == b"CAR BYTES"
    assert car.message.booking_ori == ORI and car.available_at == NOW
    assert isinstance(due.message, ReleaseDue) and due.message.recipient is Actor.LEA
    assert due.available_at == NOW + timedelta(days=2)


def test_the_message_ids_of_a_booking_follow_from_its_tcn() -> None:
    """A booking replayed after a crash mints the same messages, not new ones."""
    first, second = world(), world()
    jail().book(first, a_booking(), b"x")
    jail().book(second, a_booking(), b"x")
    assert [s.message.message_id for s in first.outbox] == [
        s.message.message_id for s in second.outbox
    ]


def test_the_car_rendered_before_the_booking_is_the_text_it_queues() -> None:
    """The service renders the CAR before it takes the write lock; the booking's unit of
    work queues that text and audits its digest instead of rendering it again."""
    uow = world()
    rendered = jail().rendered_car(a_booking(), b"CAR BYTES")
    uow.rendered_ahead(rendered)
    jail().book(uow, a_booking(), b"CAR BYTES")
    car = uow.outbox[0]
    assert car.message == rendered.message
    assert car.text is rendered.text  # taken as it was, not made again
    (entry,) = uow.entries("message", "CAR")
    assert entry.payload[PAYLOAD_SHA256] == rendered.digest
    assert entry.payload["body"] == rendered.body


def test_a_car_rendered_for_other_bytes_is_not_queued() -> None:
    """A rendering that does not equal the message emitted (same id, other transaction) is
    ignored: the unit of work renders what it emits."""
    uow = world()
    stale = jail().rendered_car(a_booking(), b"OTHER BYTES")
    uow.rendered_ahead(stale)
    jail().book(uow, a_booking(), b"CAR BYTES")
    car = uow.outbox[0]
    assert car.message.message_id == stale.message.message_id
    assert car.text == render(car.message).text != stale.text
    (entry,) = uow.entries("message", "CAR")
    assert entry.payload[PAYLOAD_SHA256] == render(car.message).digest != stale.digest


def test_a_tcn_is_booked_once() -> None:
    uow = world()
    jail().book(uow, a_booking(), b"x")
    with pytest.raises(TcnAlreadyUsed, match="already used"):
        jail().book(uow, a_booking(), b"x")
    assert len(uow.outbox) == 2


def test_an_agency_the_jail_system_does_not_know_cannot_book() -> None:
    uow = world()
    with pytest.raises(BookingRefused, match="unknown booking agency"):
        jail().book(uow, a_booking(ori="NV0010000"), b"x")
    assert uow.outbox == [] and uow.cases.by_id == {}


# -- answers the jail only records --


def test_an_errt_is_recorded_as_a_rejection() -> None:
    uow = world()
    case(uow, state=CaseState.REJECTED)
    errt = TransactionErrorResponse(
        **message_fields(sender=Actor.SIB, recipient=Actor.LEA),
        messages=("2.022 DOB: bad date",),
        field_tag="2.022",
    )
    jail().handle(errt, uow)
    (entry,) = uow.entries("outcome", "rejected")
    assert entry.payload == {"field": "2.022", "messages": ["2.022 DOB: bad date"]}
    assert uow.outbox == []


def test_search_results_are_recorded_as_received() -> None:
    uow = world()
    sre = SubmissionResults(
        **message_fields(sender=Actor.SIB, recipient=Actor.LEA), identified=False, fbi_number="F"
    )
    jail().handle(sre, uow)
    assert uow.entries("received", "SRE")[0].payload == {"message_id": sre.message_id}


def test_a_notification_request_is_noted_on_the_case() -> None:
    uow = world()
    found = case(uow)
    request = NotificationRequest(
        **message_fields(sender=Actor.ERO, recipient=Actor.LEA), decided_by="simulated:x"
    )
    jail().handle(request, uow)
    assert found.notify_on_release
    # audited, so that the audit log alone rebuilds the case (scomm audit reconcile)
    (receipt,) = uow.entries("received", "NOTIFICATION_REQUEST")
    assert receipt.payload == {"message_id": request.message_id, "notify_on_release": True}


# -- the detainer and the jail's policy --


def lodged(uow: FakeUnitOfWork, status: DetainerStatus = DetainerStatus.LODGED) -> DetainerRecord:
    record = DetainerRecord(
        detainer_id="det-1",
        case_id="case-1",
        form="I-247",
        lodged_at=uow.now,
        decided_by="simulated:sim-officer-v1",
        status=status,
        honoured=True if status is DetainerStatus.HONOURED else None,
    )
    uow.detainers.add(record)
    return record


def detainer(level: int = 2, decided_by: str = "simulated:sim-officer-v1") -> Detainer:
    return Detainer(
        **message_fields(sender=Actor.ERO, recipient=Actor.LEA),
        detainer_id="det-1",
        form="I-247",
        level=level,
        decided_by=decided_by,
        decision_id="decision-1" if decided_by else None,
    )


def answered(uow: FakeUnitOfWork) -> DetainerResponse:
    (response,) = uow.sent("DETAINER_RESPONSE")
    assert isinstance(response, DetainerResponse) and response.recipient is Actor.ERO
    return response


def test_a_detainer_is_honoured_under_the_jails_policy() -> None:
    uow = world()
    case(uow, state=CaseState.DETAINER_LODGED)
    record = lodged(uow)
    jail().handle(detainer(), uow)
    response = answered(uow)
    assert response.honoured and response.reason == "local policy honor_all"
    assert uow.outbox[0].available_at == NOW + context().settings.delays.lea_response
    assert record.status is DetainerStatus.HONOURED and record.honoured is True
    assert uow.names("outcome") == ["hold_honored"]


@pytest.mark.parametrize(
    ("policy", "d_on", "level", "honoured", "reason"),
    [
        (DetainerPolicy.HONOR_ALL, False, 1, False, "switch D off"),
        (DetainerPolicy.HONOR_NONE, True, 1, False, "honour no detainer"),
        (DetainerPolicy.TRUST_ACT, True, 2, False, "TRUST Act"),
        (DetainerPolicy.TRUST_ACT, True, 1, True, "local policy trust_act"),
    ],
)
def test_switch_d_and_the_local_policy_decide_the_answer(
    policy: DetainerPolicy, d_on: bool, level: int, honoured: bool, reason: str
) -> None:
    uow = world(policy)
    uow.switches.add(
        SwitchSetting(
            ORI,
            Switch.D_HONOUR_DETAINERS,
            d_on,
            NOW - timedelta(days=1),
            SwitchOwner.JURISDICTION,
            "t",
        ),
        NOW,
    )
    case(uow, state=CaseState.DETAINER_LODGED)
    record = lodged(uow)
    jail().handle(detainer(level), uow)
    response = answered(uow)
    assert response.honoured is honoured and reason in response.reason
    expected = DetainerStatus.HONOURED if honoured else DetainerStatus.DECLINED
    assert record.status is expected
    assert uow.names("outcome") == ["hold_honored" if honoured else "hold_declined"]


@pytest.mark.parametrize("on", [True, False])
def test_the_jail_declines_a_detainer_without_a_recorded_decision(on: bool) -> None:
    uow = world()
    case(uow, state=CaseState.DETAINER_LODGED)
    jail(officer_decision_required=on).handle(detainer(decided_by=""), uow)
    assert answered(uow).honoured is (not on)
    assert ("OFFICER_DECISION_REQUIRED" in uow.names("safeguard")) is on


def test_a_detainer_for_someone_already_released_is_declined() -> None:
    uow = world()
    case(uow, state=CaseState.DETAINER_LODGED, custody=CustodyState.RELEASED)
    record = lodged(uow)
    jail().handle(detainer(), uow)
    response = answered(uow)
    assert not response.honoured and response.reason == "subject no longer in custody (released)"
    assert record.status is DetainerStatus.DECLINED


def test_a_detainer_withdrawn_before_it_arrived_is_declined_and_stays_withdrawn() -> None:
    uow = world()
    case(uow, state=CaseState.DETAINER_LODGED)
    record = lodged(uow, DetainerStatus.WITHDRAWN)
    jail().handle(detainer(), uow)
    assert answered(uow).reason == "detainer already withdrawn"
    assert record.status is DetainerStatus.WITHDRAWN


# -- release, hold, pickup --


def release_due() -> ReleaseDue:
    return ReleaseDue(**message_fields(sender=Actor.LEA, recipient=Actor.LEA))


@pytest.mark.parametrize(
    ("state", "notify", "ice_told"),
    [
        (CaseState.NO_ACTION, False, False),
        (CaseState.NO_ACTION, True, True),
        (CaseState.NOTIFICATION_REQUESTED, False, True),
    ],
)
def test_release_without_a_detainer_tells_ice_when_it_asked(
    state: CaseState, notify: bool, ice_told: bool
) -> None:
    uow = world()
    found = case(uow, state=state, notify_on_release=notify)
    jail().handle(release_due(), uow)
    assert found.custody is CustodyState.RELEASED
    assert uow.names("outcome") == ["released"]
    assert uow.sent_types() == (["RELEASE"] if ice_told else [])


def test_release_due_with_an_honoured_detainer_starts_the_hold() -> None:
    uow = FakeUnitOfWork(ScenarioClock(datetime(2011, 6, 2, 9)))  # a Thursday
    found = case(uow, state=CaseState.DETAINER_LODGED)
    record = lodged(uow, DetainerStatus.HONOURED)
    jail().handle(release_due(), uow)
    monday = datetime(2011, 6, 6, 9)  # 48 hours of working days: the weekend does not count
    assert found.custody is CustodyState.HELD_ON_DETAINER and record.hold_deadline == monday
    started, expiry = uow.outbox
    assert isinstance(started.message, HoldStarted) and started.message.deadline == monday
    assert started.message.recipient is Actor.ERO
    assert isinstance(expiry.message, HoldExpired) and expiry.available_at == monday


def test_a_late_release_timer_does_nothing() -> None:
    uow = world()
    case(uow, state=CaseState.NO_ACTION, custody=CustodyState.RELEASED)
    jail().handle(release_due(), uow)
    assert uow.outbox == [] and uow.audit == []


def pickup() -> CustodyPickup:
    return CustodyPickup(
        **message_fields(sender=Actor.ERO, recipient=Actor.LEA), detainer_id="det-1"
    )


def test_a_pickup_during_the_hold_transfers_custody() -> None:
    uow = world()
    found = case(uow, state=CaseState.DETAINER_LODGED, custody=CustodyState.HELD_ON_DETAINER)
    record = lodged(uow, DetainerStatus.HONOURED)
    jail().handle(pickup(), uow)
    assert found.custody is CustodyState.TRANSFERRED_TO_ICE
    assert record.status is DetainerStatus.TRANSFERRED
    assert uow.names("outcome") == ["transferred"]
    (transfer,) = uow.sent()
    assert isinstance(transfer, Transfer) and transfer.recipient is Actor.ERO


def test_a_pickup_after_the_release_finds_nobody() -> None:
    uow = world()
    case(uow, state=CaseState.DETAINER_LODGED, custody=CustodyState.RELEASED)
    record = lodged(uow, DetainerStatus.EXPIRED)
    jail().handle(pickup(), uow)
    assert uow.names("decision") == ["PICKUP_MISSED"]
    assert uow.outbox == [] and record.status is DetainerStatus.EXPIRED


def hold_expired() -> HoldExpired:
    return HoldExpired(**message_fields(sender=Actor.LEA, recipient=Actor.LEA), detainer_id="det-1")


def test_an_expired_hold_releases_the_person_and_tells_ice() -> None:
    uow = world()
    found = case(uow, state=CaseState.DETAINER_LODGED, custody=CustodyState.HELD_ON_DETAINER)
    record = lodged(uow, DetainerStatus.HONOURED)
    jail().handle(hold_expired(), uow)
    assert found.custody is CustodyState.RELEASED and record.status is DetainerStatus.EXPIRED
    assert uow.names("outcome") == ["hold_expired", "released"]
    (release,) = uow.sent()
    assert isinstance(release, Release) and release.reason == "48-hour hold expired"


def test_the_hold_timer_after_a_transfer_does_nothing() -> None:
    uow = world()
    case(uow, state=CaseState.DETAINER_LODGED, custody=CustodyState.TRANSFERRED_TO_ICE)
    record = lodged(uow, DetainerStatus.TRANSFERRED)
    jail().handle(hold_expired(), uow)
    assert uow.outbox == [] and uow.audit == [] and record.status is DetainerStatus.TRANSFERRED


# -- the court's disposition and ICE's withdrawal --


def disposition(outcome: DispositionOutcome) -> CourtDisposition:
    return CourtDisposition(
        **message_fields(sender=Actor.COURT, recipient=Actor.LEA), outcome=outcome, decided_at=NOW
    )


@pytest.mark.parametrize("on", [True, False])
def test_a_dismissal_is_passed_to_ice_when_a_detainer_is_pending(on: bool) -> None:
    uow = world()
    case(uow, state=CaseState.DETAINER_LODGED)
    lodged(uow, DetainerStatus.HONOURED)
    jail(withdraw_on_dismissal=on).handle(disposition(DispositionOutcome.DISMISSED), uow)
    assert uow.names("outcome") == ["disposition_dismissed"]
    to_ice = [m for m in uow.sent("DISPOSITION") if m.recipient is Actor.ERO]
    assert len(to_ice) == int(on)  # the original program never told ICE
    (due,) = uow.sent("RELEASE_DUE")  # dismissed: eligible for release now
    assert due.recipient is Actor.LEA


def test_a_dismissal_without_a_pending_detainer_stays_with_the_jail() -> None:
    uow = world()
    case(uow, state=CaseState.DETAINER_LODGED)
    lodged(uow, DetainerStatus.DECLINED)
    jail().handle(disposition(DispositionOutcome.ACQUITTED), uow)
    assert uow.sent_types() == ["RELEASE_DUE"]


def test_a_conviction_keeps_the_person() -> None:
    uow = world()
    case(uow, state=CaseState.DETAINER_LODGED)
    lodged(uow, DetainerStatus.HONOURED)
    jail().handle(disposition(DispositionOutcome.CONVICTED), uow)
    # ICE hears of it, and CJIS (the final disposition report); nobody is released
    assert [(m.type, m.recipient) for m in uow.sent()] == [
        ("DISPOSITION", Actor.ERO),
        ("DISPOSITION", Actor.CJIS),
    ]
    assert uow.names("outcome") == ["disposition_convicted"]


@pytest.mark.parametrize("outcome", list(DispositionOutcome))
def test_the_jail_reports_every_conviction_to_cjis(outcome: DispositionOutcome) -> None:
    uow = world()
    case(uow, state=CaseState.IDENT_NO_MATCH)
    jail().handle(disposition(outcome), uow)
    to_cjis = [m for m in uow.sent("DISPOSITION") if m.recipient is Actor.CJIS]
    assert len(to_cjis) == (outcome is DispositionOutcome.CONVICTED)
    assert all(m.case_id == "case-1" and m.outcome is outcome for m in to_cjis)


def test_a_withdrawn_detainer_ends_the_hold() -> None:
    uow = world()
    found = case(uow, state=CaseState.DETAINER_LODGED, custody=CustodyState.HELD_ON_DETAINER)
    record = lodged(uow, DetainerStatus.HONOURED)
    withdrawn = DetainerWithdrawn(
        **message_fields(sender=Actor.ERO, recipient=Actor.LEA),
        detainer_id="det-1",
        reason="charges dismissed",
    )
    jail().handle(withdrawn, uow)
    assert record.status is DetainerStatus.WITHDRAWN
    assert found.custody is CustodyState.RELEASED
    assert uow.names("outcome") == ["detainer_withdrawn", "released"]
    (release,) = uow.sent()
    assert isinstance(release, Release)
    assert release.reason == "detainer withdrawn: charges dismissed"


def test_the_jail_handles_only_its_messages() -> None:
    match = IdentMatch(
        **message_fields(sender=Actor.IDENT, recipient=Actor.LEA), ident_id="I", candidates=()
    )
    with pytest.raises(ValueError, match="the jail does not handle IDR_MATCH"):
        jail().handle(match, world())
