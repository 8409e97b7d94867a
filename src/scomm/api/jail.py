"""A jail's side of its bookings over the service.

What the flow sent the jail for a booking (the SRE or ERRT, the IDR/IAR, detainer forms and
notification requests, their withdrawals, custody pickups, court dispositions), each as JSON
and, where the flow has them, as bytes (ANSI/NIST for the SRE and ERRT, the form's text for
a detainer or notification request); what the jail answered (its detainer responses, which
its detainer policy decides, holds, releases, transfers) and the custody of the person; and
the jail's own reports: the court's disposition of the charges and a release.

A jail sees and reports on its ORI's bookings; a bureau sees its state's, read only; every
other booking, and every booking for an agency of another kind, answers 404 as an unknown
TCN does (the messages between the jail and ICE are theirs: CJIS, IDENT and LESC read the
transaction's SRE under /v1/transactions, not these)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from scomm.api.common import Caller, Service, audit_access, need, service_of
from scomm.api.errors import Problem
from scomm.api.tokens import Principal
from scomm.api.transactions import ebts_response, visible_booking
from scomm.domain.agencies import BOOKING_WRITE, TRANSACTION_READ, AgencyKind
from scomm.domain.case import CaseState, CustodyState
from scomm.domain.messages import (
    Actor,
    CourtDisposition,
    CriminalTenprintSubmission,
    CustodyPickup,
    DeliveryStatus,
    Detainer,
    DetainerResponse,
    DetainerWithdrawn,
    DispositionOutcome,
    HoldStarted,
    IdentResultsToJail,
    Message,
    NotificationRequest,
    Release,
    Transfer,
    message_from_payload,
)
from scomm.forms.detainers import FORMS, REQUEST_TEXT
from scomm.forms.detainers import Request as FormRequest
from scomm.services.errors import AlreadyReported
from scomm.store.models import AuditEntryRow, BookingRow, CaseRow, DetainerRow, OutboxRow
from scomm.system import System

BOOKING = "/v1/bookings/{tcn}"
NO_BOOKING = "no booking with this TCN"
NIST_MEDIA = "application/x-ansi-nist"
FORM_MEDIA = "text/plain; charset=utf-8"
FORM_TITLES = {form.form: form.title for form in FORMS}
JAIL = Actor.LEA.value
CAR = CriminalTenprintSubmission.TYPE  # the jail's transaction: /v1/transactions shows it


class DispositionBody(BaseModel):
    """The court's disposition of the booking's charges; `decided_at` (default: now) may not
    lie in the future nor before the booking."""

    model_config = ConfigDict(extra="forbid")

    outcome: DispositionOutcome
    decided_at: datetime | None = None


@dataclass(frozen=True)
class JailMessage:
    """A message of the flow between the jail and another party, as the service shows it:
    its JSON fields and, where the flow has them, its bytes (`content`, of type `media`)."""

    message_id: str
    type: str
    sender: str
    recipient: str
    at: datetime  # delivered to the jail, or sent by it
    fields: dict[str, Any]
    content: bytes | None = None
    media: str | None = None

    def summary(self, tcn: str) -> dict[str, Any]:
        link = f"{BOOKING.format(tcn=tcn)}/responses/{self.message_id}"
        return {
            "id": self.message_id,
            "type": self.type,
            "from": self.sender,
            "to": self.recipient,
            "at": self.at.isoformat(),
            **self.fields,
            "content_type": self.media or "application/json",
            "links": {"self": link} if self.recipient == JAIL else {},
        }


def jail_booking(system: System, principal: Principal, tcn: str) -> BookingRow | None:
    """The booking of `tcn` if the caller is its jail or its state's bureau; None otherwise,
    exactly as for an unknown TCN."""
    if principal.kind not in (AgencyKind.JAIL, AgencyKind.BUREAU):
        return None
    return visible_booking(system, principal, tcn)


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _fields(message: Message) -> dict[str, Any]:
    """What the jail may see of a message (not ICE's internal notes: no decision ids, no
    candidate lists)."""
    match message:
        case IdentResultsToJail():
            return {
                "matched": message.matched,
                "recorded_status": message.recorded_status,
                "removability": message.removability,
                "level": message.level,
                "rule_set": message.rule_set,
            }
        case Detainer():
            return {
                "detainer_id": message.detainer_id,
                "form": message.form,
                "title": FORM_TITLES.get(message.form, ""),
                "decided_by": message.decided_by,
                "form_fields": dict(message.fields),
            }
        case NotificationRequest():
            return {
                "form": message.form,
                "title": FORM_TITLES.get(message.form, ""),
                "decided_by": message.decided_by,
            }
        case DetainerWithdrawn():
            return {"detainer_id": message.detainer_id, "reason": message.reason}
        case CustodyPickup() | Transfer():
            return {"detainer_id": message.detainer_id}
        case CourtDisposition():
            return {"outcome": message.outcome, "decided_at": _moment(message.decided_at)}
        case DetainerResponse():
            return {
                "detainer_id": message.detainer_id,
                "honoured": message.honoured,
                "reason": message.reason,
            }
        case HoldStarted():
            return {"detainer_id": message.detainer_id, "deadline": _moment(message.deadline)}
        case Release():
            return {"reason": message.reason}
        case _:
            return {}


def form_text(booking: BookingRow, message: Detainer | NotificationRequest) -> bytes:
    """A detainer form or a notification request as text: the form, its title, the jail and
    the transaction, who issued it, then the form's fields."""
    form = message.form or "I-247"
    title = FORM_TITLES.get(message.form) or "Request for notification of release"
    lines = [f"{form}  {title}", f"to: {booking.ori}", f"tcn: {booking.tcn}"]
    if isinstance(message, Detainer):
        lines.append(f"detainer: {message.detainer_id}")
        lines.append(f"issued by: {message.decided_by}")
        lines.append("")
        lines += [f"{name}: {value}" for name, value in message.fields.items()]
    else:
        lines.append(f"issued by: {message.decided_by}")
        lines.append("")
        lines.append(f"request: {REQUEST_TEXT[FormRequest.NOTIFY]}")
    return ("\n".join(lines) + "\n").encode()


def _shown(booking: BookingRow, message: Message, at: datetime) -> JailMessage:
    answer = ebts_response(booking, message, at)
    content, media = (answer.nist, NIST_MEDIA) if answer is not None else (None, None)
    if answer is not None:
        fields = answer.fields
    else:
        fields = {k: v.value if hasattr(v, "value") else v for k, v in _fields(message).items()}
    if isinstance(message, Detainer | NotificationRequest):
        content, media = form_text(booking, message), FORM_MEDIA
    return JailMessage(
        message_id=message.message_id, type=message.type, sender=message.sender.value,
        recipient=message.recipient.value, at=at, fields=fields, content=content, media=media,
    )  # fmt: skip


def received(system: System, booking: BookingRow) -> list[JailMessage]:
    """What the other parties delivered to the booking's jail, in the order it got them
    (the jail's own timers left out)."""
    with system.db.sessions() as session:
        rows = session.scalars(
            select(OutboxRow)
            .where(
                OutboxRow.tcn == booking.tcn,
                OutboxRow.recipient == JAIL,
                OutboxRow.sender != JAIL,
                OutboxRow.status == DeliveryStatus.DELIVERED.value,
            )
            .order_by(OutboxRow.seq)
        ).all()
        found = [
            (message_from_payload(r.type, json.loads(r.payload)), r.delivered_at or r.available_at)
            for r in rows
        ]
    return [_shown(booking, message, at) for message, at in found]


def sent(system: System, booking: BookingRow) -> list[JailMessage]:
    """What the booking's jail sent the other parties after its CAR (detainer responses,
    holds, releases, transfers, dispositions passed on), at the moment it decided each."""
    with system.db.sessions() as session:
        rows = session.scalars(
            select(OutboxRow)
            .where(OutboxRow.tcn == booking.tcn, OutboxRow.sender == JAIL)
            .where(OutboxRow.recipient != JAIL, OutboxRow.type != CAR)
            .order_by(OutboxRow.seq)
        ).all()
        found = [(message_from_payload(r.type, json.loads(r.payload)), r.created_at) for r in rows]
    return [_shown(booking, message, at) for message, at in found]


def booking_state(system: System, booking: BookingRow) -> dict[str, Any]:
    """The booking as its jail sees it: custody now and its history, each detainer with the
    jail's answer (when, and the policy or law it answered under), and what it sent ICE."""
    with system.db.sessions() as session:
        case = session.get(CaseRow, booking.case_id)
        detainers = session.scalars(
            select(DetainerRow)
            .where(DetainerRow.case_id == booking.case_id)
            .order_by(DetainerRow.lodged_at)
        ).all()
        custody = session.scalars(
            select(AuditEntryRow)
            .where(AuditEntryRow.kind == "custody", AuditEntryRow.case_id == booking.case_id)
            .order_by(AuditEntryRow.seq)
        ).all()
        history = [
            {"at": e.recorded_at.isoformat(), **_custody_step(json.loads(e.payload))}
            for e in custody
        ]
        lodged = [
            (d.detainer_id, d.form, d.lodged_at, d.status, d.hold_deadline) for d in detainers
        ]
    answers_sent = sent(system, booking)
    answers = {m.fields["detainer_id"]: m for m in answers_sent if m.type == DetainerResponse.TYPE}
    shown_detainers = []
    for detainer_id, form, lodged_at, status, deadline in lodged:
        answer = answers.get(detainer_id)
        shown_detainers.append(
            {
                "detainer_id": detainer_id,
                "form": form,
                "lodged_at": lodged_at.isoformat(),
                "status": status,
                "hold_deadline": _moment(deadline),
                "answer": None
                if answer is None
                else {
                    "honoured": answer.fields["honoured"],
                    "basis": answer.fields["reason"],  # the policy or law it answered under
                    "answered_at": answer.at.isoformat(),
                },
            }
        )
    link = BOOKING.format(tcn=booking.tcn)
    return {
        "tcn": booking.tcn,
        "ori": booking.ori,
        "booked_at": booking.booked_at.isoformat(),
        "release_due_at": booking.release_due_at.isoformat(),
        "custody": case.custody if case is not None else None,
        "state": _jail_state(case.state) if case is not None else None,
        "custody_history": history,
        "detainers": shown_detainers,
        "sent": [m.summary(booking.tcn) for m in answers_sent],
        "links": {
            "self": link,
            "responses": f"{link}/responses",
            "transaction": f"/v1/transactions/{booking.tcn}",
        },
    }


# The case's states the jail may see: its own transaction's track up to the SRE. The states
# after it are ICE's (IDENT's match, LESC's IAR, ERO's decision): the jail learns of those
# only by the messages the flow sends it (switch C, a detainer, a notification request).
JAIL_STATES = frozenset(
    s.value
    for s in (
        CaseState.BOOKED,
        CaseState.REJECTED,
        CaseState.STATE_ONLY,
        CaseState.CRIMINAL_SEARCHED,
    )
)


def _jail_state(state: str | None) -> str | None:
    if state is None or state in JAIL_STATES:
        return state
    return CaseState.CRIMINAL_SEARCHED.value


def _custody_step(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        return {}
    return {name: payload.get(name) for name in ("from", "to", "why")}


def _naive_utc(value: datetime) -> datetime:
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def add_jail_routes(app: FastAPI) -> None:
    """The jail's routes under /v1/bookings (on the app itself, so `app.routes` lists them)."""

    @app.get(BOOKING, tags=["bookings"])
    def booking(tcn: str, request: Request, principal: Caller) -> JSONResponse:
        """The booking as its jail sees it: custody now and how it moved, each detainer with
        the jail's answer (honoured or not, when, under which policy or law), and what the
        jail sent ICE (detainer responses, holds, releases, transfers)."""
        need(principal, TRANSACTION_READ)
        service = service_of(request)
        row = jail_booking(service.system, principal, tcn)
        seen = "found" if row is not None else "not-found"
        audit_access(service, principal, request, "READ_BOOKING", seen, tcn=tcn)
        if row is None:
            raise Problem(404, "not found", NO_BOOKING)
        return JSONResponse(booking_state(service.system, row))

    @app.get(f"{BOOKING}/responses", tags=["bookings"])
    def responses(tcn: str, request: Request, principal: Caller) -> JSONResponse:
        """What the flow delivered to the booking's jail, oldest first: SRE or ERRT, the
        IDR/IAR, detainer forms, notification requests, withdrawals, custody pickups, court
        dispositions; each with a link to its bytes where the flow has them."""
        need(principal, TRANSACTION_READ)
        service = service_of(request)
        row = jail_booking(service.system, principal, tcn)
        seen = "found" if row is not None else "not-found"
        audit_access(service, principal, request, "READ_RESPONSES", seen, tcn=tcn)
        if row is None:
            raise Problem(404, "not found", NO_BOOKING)
        shown = [m.summary(tcn) for m in received(service.system, row)]
        return JSONResponse({"tcn": tcn, "responses": shown})

    @app.get(
        f"{BOOKING}/responses/{{message_id}}",
        tags=["bookings"],
        responses={200: {"content": {NIST_MEDIA: {}, FORM_MEDIA: {}, "application/json": {}}}},
    )
    def one_response(tcn: str, message_id: str, request: Request, principal: Caller) -> Response:
        """One message the jail got: the SRE or ERRT as ANSI/NIST-ITL bytes, a detainer form
        or notification request as text, any other as JSON."""
        need(principal, TRANSACTION_READ)
        service = service_of(request)
        row = jail_booking(service.system, principal, tcn)
        got = received(service.system, row) if row is not None else []
        found = next((m for m in got if m.message_id == message_id), None)
        seen = "found" if found is not None else "not-found"
        audit_access(
            service, principal, request, "READ_RESPONSE", seen, tcn=tcn, message_id=message_id[:64]
        )
        if row is None:
            raise Problem(404, "not found", NO_BOOKING)
        if found is None:
            raise Problem(404, "not found", "the jail got no message with this id", tcn=tcn)
        if found.content is not None and found.media is not None:
            return Response(found.content, media_type=found.media)
        return JSONResponse(found.summary(tcn))

    @app.post(f"{BOOKING}/dispositions", status_code=202, tags=["bookings"])
    def disposition(
        tcn: str, body: DispositionBody, request: Request, principal: Caller
    ) -> JSONResponse:
        """The court's disposition of the booking's charges, as its jail reports it (once):
        it reaches the jail through the flow, which passes it on to ICE where a detainer is
        pending and releases the person on a dismissal or an acquittal."""
        need(principal, BOOKING_WRITE)
        service = service_of(request)
        row = _own_booking(service, principal, tcn, request, "DISPOSITION_REPORTED")
        now = service.system.clock.now()
        try:
            decided = now if body.decided_at is None else _naive_utc(body.decided_at)
        except OverflowError:  # its UTC lies past year 9999 (or before year 1)
            decided = None
        if decided is None or not row.booked_at <= decided <= now:
            audit_access(service, principal, request, "DISPOSITION_REPORTED", "refused", tcn=tcn)
            raise Problem(
                422, "bad decision date", "decided_at lies between the booking and now", tcn=tcn
            )
        try:
            with service.writer:
                service.system.record_disposition(tcn, body.outcome, decided)
        except AlreadyReported as error:
            audit_access(service, principal, request, "DISPOSITION_REPORTED", "refused", tcn=tcn)
            raise Problem(409, "already reported", error.message, tcn=tcn) from error
        audit_access(
            service, principal, request, "DISPOSITION_REPORTED", "accepted", tcn=tcn,
            disposition=body.outcome.value,
        )  # fmt: skip
        return JSONResponse(
            {
                "tcn": tcn,
                "outcome": body.outcome.value,
                "decided_at": decided.isoformat(),
                "links": {"booking": BOOKING.format(tcn=tcn)},
            },
            status_code=202,
        )

    @app.post(f"{BOOKING}/release", status_code=202, tags=["bookings"])
    def release(tcn: str, request: Request, principal: Caller) -> JSONResponse:
        """The jail would release the person now (bail, sentence served, charges dropped):
        the flow releases them, or holds them on a detainer the jail honoured (and tells ICE
        where it asked to be told). Once per booking, while the person is in custody."""
        need(principal, BOOKING_WRITE)
        service = service_of(request)
        row = _own_booking(service, principal, tcn, request, "RELEASE_REPORTED")
        with service.system.db.sessions() as session:
            case = session.get(CaseRow, row.case_id)
            custody = case.custody if case is not None else None
        if custody != CustodyState.IN_CUSTODY.value:
            audit_access(service, principal, request, "RELEASE_REPORTED", "refused", tcn=tcn)
            raise Problem(409, "not in custody", f"the person is {custody}", tcn=tcn)
        try:
            with service.writer:
                service.system.report_release(tcn)
        except AlreadyReported as error:
            audit_access(service, principal, request, "RELEASE_REPORTED", "refused", tcn=tcn)
            raise Problem(409, "already reported", error.message, tcn=tcn) from error
        audit_access(service, principal, request, "RELEASE_REPORTED", "accepted", tcn=tcn)
        return JSONResponse(
            {"tcn": tcn, "status": "RELEASE_DUE", "links": {"booking": BOOKING.format(tcn=tcn)}},
            status_code=202,
        )


def _own_booking(
    service: Service, principal: Principal, tcn: str, request: Request, what: str
) -> BookingRow:
    """The booking of `tcn` if the caller is its jail; 404 (audited) otherwise."""
    jail = principal.kind is AgencyKind.JAIL
    row = jail_booking(service.system, principal, tcn) if jail else None
    if row is None:
        audit_access(service, principal, request, what, "not-found", tcn=tcn)
        raise Problem(404, "not found", NO_BOOKING)
    return row
