"""The booking jail (LEA): books, sends the CAR, applies its detainer policy, holds, releases."""

from __future__ import annotations

from dataclasses import dataclass

from scomm.bus.unit_of_work import AbstractUnitOfWork, RenderedMessage, message_id_of, render
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
    DispositionOutcome,
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
from scomm.domain.records import Booking, Case, DetainerRecord, DetainerStatus
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
from scomm.services.removals import ICE_OPEN

ME = Actor.LEA


class BookingRefused(ServiceError):
    """The jail cannot book this: unknown agency, or a TCN already used."""


class TcnAlreadyUsed(BookingRefused):
    """The jail cannot book this: another booking has its TCN."""


@dataclass(frozen=True)
class Booked:
    case_id: str
    tcn: str


def _case_id(booking: Booking) -> str:
    return derived_id("case", booking.tcn)


def _car(booking: Booking, transaction: bytes, message_id: str) -> CriminalTenprintSubmission:
    """The booking's CAR to the SIB, the first message its unit of work emits."""
    return CriminalTenprintSubmission(
        message_id=message_id,
        case_id=_case_id(booking),
        tcn=booking.tcn,
        sender=ME,
        recipient=Actor.SIB,
        transaction=transaction,
        booking_ori=booking.ori,
    )


class BookingJail:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- the booking itself: a command from the jail's own staff, not a message --
    def book(self, uow: AbstractUnitOfWork, booking: Booking, transaction: bytes) -> Booked:
        if jurisdiction(uow, booking.ori) is None:
            raise BookingRefused(f"unknown booking agency ORI {booking.ori!r}")
        if uow.bookings.tcn_used(booking.tcn):
            raise TcnAlreadyUsed(f"TCN {booking.tcn!r} already used")
        case_id = _case_id(booking)
        uow.cause = case_id
        uow.bookings.add(booking, case_id)
        uow.cases.add(
            Case(
                case_id=case_id,
                tcn=booking.tcn,
                ori=booking.ori,
                state=CaseState.BOOKED,
                custody=CustodyState.IN_CUSTODY,
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
        uow.emit(_car(booking, transaction, uow.new_message_id()))  # the booking's first
        uow.emit(
            ReleaseDue(
                message_id=uow.new_message_id(), sender=ME, recipient=ME,
                case_id=case_id, tcn=booking.tcn,
            ),
            at=booking.release_due_at,
        )  # fmt: skip
        return Booked(case_id=case_id, tcn=booking.tcn)

    def rendered_car(self, booking: Booking, transaction: bytes) -> RenderedMessage:
        """The CAR that `book` sends the SIB for `booking`, rendered for the outbox and the
        audit chain without the database: for a caller that renders it before it takes
        the write lock and gives it to the booking's unit of work (`rendered_ahead`)."""
        return render(_car(booking, transaction, message_id_of(_case_id(booking), 1)))

    # -- messages --
    def handle(self, message: Message, uow: AbstractUnitOfWork) -> None:
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
                uow.record(
                    "received",
                    message.type,
                    ME.value,
                    message.case_id,
                    {"message_id": message.message_id, "notify_on_release": True},
                )
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

    def _on_disposition(self, message: CourtDisposition, uow: AbstractUnitOfWork) -> None:
        """Record the court's disposition; with safeguard (b) on, tell ICE when it has a
        detainer pending here, and tell it of a conviction of a person it holds (the removal
        counts it); send CJIS every conviction (the final disposition report, which puts it on
        the III record); a dismissal or acquittal makes the person eligible for release now."""
        case = load_case(uow, message.case_id)
        record_outcome(
            uow,
            case.case_id,
            f"disposition_{message.outcome.value}",
            ME,
            decided_at=message.decided_at.isoformat(),
        )
        pending = [d for d in uow.detainers.for_case(case.case_id) if d.status.is_pending]
        fields = {"outcome": message.outcome, "decided_at": message.decided_at}
        if pending and self.ctx.settings.safeguards.withdraw_on_dismissal:
            uow.emit(reply(uow, message, CourtDisposition, ME, Actor.ERO, **fields))
        elif message.outcome is DispositionOutcome.CONVICTED and (
            pending or case.state in ICE_OPEN
        ):  # ICE wants or holds the person: a conviction changes what a removal counts as
            uow.emit(reply(uow, message, CourtDisposition, ME, Actor.ERO, **fields))
        if message.outcome is DispositionOutcome.CONVICTED:
            # the final disposition report: the conviction goes on the III record
            uow.emit(reply(uow, message, CourtDisposition, ME, Actor.CJIS, **fields))
        if message.outcome.clears_the_person and case.custody is CustodyState.IN_CUSTODY:
            uow.emit(reply(uow, message, ReleaseDue, ME, ME))

    def _on_withdrawn(self, message: DetainerWithdrawn, uow: AbstractUnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        detainer = uow.detainers.get(message.detainer_id)
        if detainer is not None:
            detainer.status = DetainerStatus.WITHDRAWN
        record_outcome(
            uow,
            case.case_id,
            "detainer_withdrawn",
            ME,
            detainer_id=message.detainer_id,
            reason=message.reason,
        )
        if case.custody is CustodyState.HELD_ON_DETAINER:
            self._release(uow, message, case, f"detainer withdrawn: {message.reason}")

    def _on_detainer(self, message: Detainer, uow: AbstractUnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        detainer = uow.detainers.get(message.detainer_id)
        needs_decision = self.ctx.settings.safeguards.officer_decision_required
        if detainer is not None and detainer.status is DetainerStatus.WITHDRAWN:
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
        elif case.custody is not CustodyState.IN_CUSTODY:
            honour, reason = False, f"subject no longer in custody ({case.custody.value})"
        else:
            place = jurisdiction(uow, case.ori)
            policy = place.detainer_policy if place else DetainerPolicy.HONOR_ALL
            verdict = apply_detainer_policy(
                policy, switch_on(uow, case.ori, Switch.D_HONOUR_DETAINERS, uow.now), message.level
            )
            honour, reason = verdict.honour, verdict.reason
        if detainer is not None and detainer.status is not DetainerStatus.WITHDRAWN:
            detainer.honoured = honour
            detainer.status = DetainerStatus.HONOURED if honour else DetainerStatus.DECLINED
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

    def _on_release_due(self, message: ReleaseDue, uow: AbstractUnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        if case.custody is not CustodyState.IN_CUSTODY:
            return
        detainer = honoured_detainer(uow.detainers.for_case(case.case_id))
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
            detainer_id=detainer.detainer_id,
            hold_deadline=deadline.isoformat(),
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

    def _on_pickup(self, message: CustodyPickup, uow: AbstractUnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        if case.custody is not CustodyState.HELD_ON_DETAINER:
            uow.record(
                "decision",
                "PICKUP_MISSED",
                ME.value,
                case.case_id,
                {"custody": case.custody.value},
            )
            return
        move_custody(uow, case, CustodyState.TRANSFERRED_TO_ICE, ME, "ICE took custody")
        detainer = uow.detainers.get(message.detainer_id)
        if detainer is not None:
            detainer.status = DetainerStatus.TRANSFERRED
        record_outcome(uow, case.case_id, "transferred", ME, detainer_id=message.detainer_id)
        uow.emit(reply(uow, message, Transfer, ME, Actor.ERO, detainer_id=message.detainer_id))

    def _on_hold_expired(self, message: HoldExpired, uow: AbstractUnitOfWork) -> None:
        case = load_case(uow, message.case_id)
        if case.custody is not CustodyState.HELD_ON_DETAINER:
            return
        detainer = uow.detainers.get(message.detainer_id)
        if detainer is not None:
            detainer.status = DetainerStatus.EXPIRED
        record_outcome(uow, case.case_id, "hold_expired", ME, detainer_id=message.detainer_id)
        self._release(uow, message, case, "48-hour hold expired")

    def _release(self, uow: AbstractUnitOfWork, cause: Message, case: Case, why: str) -> None:
        move_custody(uow, case, CustodyState.RELEASED, ME, why)
        record_outcome(uow, case.case_id, "released", ME, reason=why)
        ice_interested = case.notify_on_release or case.state in (
            CaseState.DETAINER_LODGED,
            CaseState.NOTIFICATION_REQUESTED,
        )
        if ice_interested:
            uow.emit(reply(uow, cause, Release, ME, Actor.ERO, reason=why))


def honoured_detainer(detainers: list[DetainerRecord]) -> DetainerRecord | None:
    """The detainer the jail agreed to hold the person on, if any."""
    return next((d for d in detainers if d.honoured and d.status is DetainerStatus.HONOURED), None)
