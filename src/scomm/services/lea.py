"""The booking jail (LEA): books, sends the CAR, applies its detainer policy, holds, releases."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.case import CaseState, CustodyState
from scomm.domain.hold import hold_deadline
from scomm.domain.ids import derived_id
from scomm.domain.messages import (
    Actor,
    CourtDisposition,
    CriminalTenprintSubmission,
    CustodyPickup,
    Detainer,
    DetainerResponse,
    DetainerWithdrawn,
    HoldExpired,
    HoldStarted,
    IdentResultsToJail,
    Message,
    NotificationRequest,
    Release,
    ReleaseDue,
    SubmissionResults,
    TransactionErrorResponse,
    Transfer,
)
from scomm.domain.policies import DetainerPolicy, apply_detainer_policy
from scomm.domain.records import Booking
from scomm.domain.switches import Switch
from scomm.services.common import (
    jurisdiction,
    load_case,
    move_custody,
    record_outcome,
    reply,
    switch_on,
)
from scomm.services.context import ServiceContext
from scomm.services.errors import ServiceError
from scomm.store.models import BookingRow, CaseRow, ChargeRow, DetainerRow

ME = Actor.LEA


class BookingRefused(ServiceError):
    """The jail cannot book this: unknown agency, or a TCN already used."""


@dataclass(frozen=True)
class Booked:
    case_id: str
    tcn: str


class BookingJail:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- the booking itself: a command from the jail's own staff, not a message --
    def book(self, uow: UnitOfWork, booking: Booking, transaction: bytes) -> Booked:
        if jurisdiction(uow, booking.ori) is None:
            raise BookingRefused(f"unknown booking agency ORI {booking.ori!r}")
        if uow.session.scalar(select(BookingRow.tcn).where(BookingRow.tcn == booking.tcn)):
            raise BookingRefused(f"TCN {booking.tcn!r} already used")
        case_id = derived_id("case", booking.tcn)
        uow.cause = case_id
        uow.session.add(
            BookingRow(
                booking_id=booking.booking_id,
                tcn=booking.tcn,
                case_id=case_id,
                ori=booking.ori,
                booked_at=booking.booked_at,
                release_due_at=booking.release_due_at,
                name=booking.name,
                dob=booking.dob,
                sex=booking.sex,
                pob=booking.pob,
            )
        )
        uow.session.flush()  # the booking row before the charges that point at it
        for position, charge in enumerate(booking.charges, start=1):
            uow.session.add(
                ChargeRow(
                    booking_id=booking.booking_id,
                    position=position,
                    literal=charge.literal,
                    offense_date=charge.offense_date,
                )
            )
        uow.session.add(
            CaseRow(
                case_id=case_id,
                tcn=booking.tcn,
                ori=booking.ori,
                state=CaseState.BOOKED.value,
                custody=CustodyState.IN_CUSTODY.value,
                opened_at=uow.now,
                updated_at=uow.now,
            )
        )
        uow.record(
            "booking",
            "BOOKED",
            ME.value,
            case_id,
            {
                "booking_id": booking.booking_id,
                "tcn": booking.tcn,
                "ori": booking.ori,
                "charges": [c.literal for c in booking.charges],
                "release_due_at": booking.release_due_at.isoformat(),
            },
        )
        base = dict(case_id=case_id, tcn=booking.tcn)
        uow.emit(
            CriminalTenprintSubmission(
                message_id=uow.new_message_id(),
                sender=ME,
                recipient=Actor.SIB,
                transaction=transaction,
                booking_ori=booking.ori,
                **base,
            )
        )
        uow.emit(
            ReleaseDue(message_id=uow.new_message_id(), sender=ME, recipient=ME, **base),
            at=booking.release_due_at,
        )
        return Booked(case_id=case_id, tcn=booking.tcn)

    # -- messages --
    def handle(self, message: Message, uow: UnitOfWork) -> None:
        match message:
            case TransactionErrorResponse():
                record_outcome(
                    uow,
                    message.case_id,
                    "rejected",
                    ME,
                    field=message.field_tag,
                    messages=list(message.messages),
                )
            case SubmissionResults() | IdentResultsToJail():
                uow.record(
                    "received",
                    message.type,
                    ME.value,
                    message.case_id,
                    {"message_id": message.message_id},
                )
            case Detainer():
                self._on_detainer(message, uow)
            case NotificationRequest():
                load_case(uow, message.case_id).notify_on_release = True
            case ReleaseDue():
                self._on_release_due(message, uow)
            case CustodyPickup():
                self._on_pickup(message, uow)
            case HoldExpired():
                self._on_hold_expired(message, uow)
            case CourtDisposition():
                self._on_disposition(message, uow)
            case DetainerWithdrawn():
                self._on_withdrawn(message, uow)
            case _:
                raise ValueError(f"the jail does not handle {message.type}")

    def _on_disposition(self, message: CourtDisposition, uow: UnitOfWork) -> None:
        """Record the court's disposition; with safeguard (b) on, tell ICE when it has a
        detainer pending here; a dismissal or acquittal makes the person eligible for
        release now."""
        case = load_case(uow, message.case_id)
        record_outcome(
            uow,
            case.case_id,
            f"disposition_{message.outcome.value}",
            ME,
            decided_at=message.decided_at.isoformat(),
        )
        pending = uow.session.scalar(
            select(DetainerRow.detainer_id).where(
                DetainerRow.case_id == case.case_id,
                DetainerRow.status.in_(("lodged", "honoured")),
            )
        )
        if pending is not None and self.ctx.settings.safeguards.withdraw_on_dismissal:
            fields = {"outcome": message.outcome, "decided_at": message.decided_at}
            uow.emit(reply(uow, message, CourtDisposition, ME, Actor.ERO, **fields))
        if message.outcome.clears_the_person and case.custody == CustodyState.IN_CUSTODY.value:
            uow.emit(reply(uow, message, ReleaseDue, ME, ME))

    def _on_withdrawn(self, message: DetainerWithdrawn, uow: UnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        detainer = uow.session.get(DetainerRow, message.detainer_id)
        if detainer is not None:
            detainer.status = "withdrawn"
        record_outcome(
            uow,
            case.case_id,
            "detainer_withdrawn",
            ME,
            detainer_id=message.detainer_id,
            reason=message.reason,
        )
        if case.custody == CustodyState.HELD_ON_DETAINER.value:
            self._release(uow, message, case, f"detainer withdrawn: {message.reason}")

    def _on_detainer(self, message: Detainer, uow: UnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        detainer = uow.session.get(DetainerRow, message.detainer_id)
        needs_decision = self.ctx.settings.safeguards.officer_decision_required
        if detainer is not None and detainer.status == "withdrawn":
            honour, reason = False, "detainer already withdrawn"
        elif needs_decision and not (message.decision_id and message.decided_by):
            honour, reason = False, "no recorded officer decision behind the detainer"
            uow.record(
                "safeguard",
                "OFFICER_DECISION_REQUIRED",
                ME.value,
                case.case_id,
                {"detainer_id": message.detainer_id, "form": message.form},
            )
        elif case.custody != CustodyState.IN_CUSTODY.value:
            honour, reason = False, f"subject no longer in custody ({case.custody})"
        else:
            place = jurisdiction(uow, case.ori)
            policy = place.detainer_policy if place else DetainerPolicy.HONOR_ALL
            verdict = apply_detainer_policy(
                policy, switch_on(uow, case.ori, Switch.D_HONOUR_DETAINERS, uow.now), message.level
            )
            honour, reason = verdict.honour, verdict.reason
        if detainer is not None and detainer.status != "withdrawn":
            detainer.honoured = honour
            detainer.status = "honoured" if honour else "declined"
        record_outcome(
            uow,
            case.case_id,
            "hold_honored" if honour else "hold_declined",
            ME,
            detainer_id=message.detainer_id,
            reason=reason,
        )
        uow.emit(
            reply(
                uow,
                message,
                DetainerResponse,
                ME,
                Actor.ERO,
                detainer_id=message.detainer_id,
                honoured=honour,
                reason=reason,
            ),
            delay=self.ctx.settings.delays.lea_response,
        )

    def _on_release_due(self, message: ReleaseDue, uow: UnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        if case.custody != CustodyState.IN_CUSTODY.value:
            return
        detainer = uow.session.scalar(
            select(DetainerRow).where(
                DetainerRow.case_id == case.case_id,
                DetainerRow.honoured.is_(True),
                DetainerRow.status == "honoured",
            )
        )
        if detainer is None:
            self._release(uow, message, case, "eligible for release")
            return
        deadline = hold_deadline(uow.now, self.ctx.is_holiday)
        detainer.hold_deadline = deadline
        move_custody(
            uow,
            case,
            CustodyState.HELD_ON_DETAINER,
            ME,
            f"detainer {detainer.detainer_id}: hold until {deadline.isoformat()}",
        )
        uow.emit(
            reply(
                uow,
                message,
                HoldStarted,
                ME,
                Actor.ERO,
                detainer_id=detainer.detainer_id,
                deadline=deadline,
            )
        )
        uow.emit(
            reply(uow, message, HoldExpired, ME, ME, detainer_id=detainer.detainer_id), at=deadline
        )

    def _on_pickup(self, message: CustodyPickup, uow: UnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        if case.custody != CustodyState.HELD_ON_DETAINER.value:
            uow.record(
                "decision", "PICKUP_MISSED", ME.value, case.case_id, {"custody": case.custody}
            )
            return
        move_custody(uow, case, CustodyState.TRANSFERRED_TO_ICE, ME, "ICE took custody")
        detainer = uow.session.get(DetainerRow, message.detainer_id)
        if detainer is not None:
            detainer.status = "transferred"
        record_outcome(uow, case.case_id, "transferred", ME, detainer_id=message.detainer_id)
        uow.emit(reply(uow, message, Transfer, ME, Actor.ERO, detainer_id=message.detainer_id))

    def _on_hold_expired(self, message: HoldExpired, uow: UnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        if case.custody != CustodyState.HELD_ON_DETAINER.value:
            return
        detainer = uow.session.get(DetainerRow, message.detainer_id)
        if detainer is not None:
            detainer.status = "expired"
        record_outcome(uow, case.case_id, "hold_expired", ME, detainer_id=message.detainer_id)
        self._release(uow, message, case, "48-hour hold expired")

    def _release(self, uow: UnitOfWork, cause: Message, case: CaseRow, why: str) -> None:
        move_custody(uow, case, CustodyState.RELEASED, ME, why)
        record_outcome(uow, case.case_id, "released", ME, reason=why)
        ice_interested = case.notify_on_release or case.state in (
            CaseState.DETAINER_LODGED.value,
            CaseState.NOTIFICATION_REQUESTED.value,
        )
        if ice_interested:
            uow.emit(reply(uow, cause, Release, ME, Actor.ERO, reason=why))
