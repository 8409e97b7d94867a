"""What the service does with a jail's transactions: a CAR booked into the flow, a
booking's task status and its response (SRE or ERRT) read back, each only by the
agencies that may see that booking."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from scomm.api.errors import Problem
from scomm.api.tokens import Principal
from scomm.domain.agencies import AgencyKind
from scomm.domain.ids import derived_id
from scomm.domain.messages import (
    Actor,
    Message,
    SubmissionResults,
    TransactionErrorResponse,
    message_from_payload,
)
from scomm.domain.records import Booking, Charge
from scomm.nist import tenprint
from scomm.nist.car import read_tenprint_fields
from scomm.nist.errors import TransactionError
from scomm.nist.forward import FBI_CJIS_DAI
from scomm.nist.peek import read_header
from scomm.nist.responses import encode_errt, encode_sre, errt_messages
from scomm.store.models import BookingRow, JurisdictionRow, OutboxRow
from scomm.system import System

# How long a booking made over the service is held before the flow's release is due; the
# jail's own release call comes later (issue 15).
HELD_FOR = timedelta(hours=72)
RESPONSE_TYPES = (SubmissionResults.TYPE, TransactionErrorResponse.TYPE)
NOT_FOUND = "no transaction with this TCN"


def errt_problem(error: TransactionError, tcn: str | None = None) -> Problem:
    """A CAR the service cannot accept: 422, naming the field an ERRT would name."""
    return Problem(
        422, "transaction refused", error.message,
        errt={"field": error.field, "messages": list(errt_messages(error))},
        tcn=tcn,
    )  # fmt: skip


def booking_from_car(raw: bytes, system: System, principal: Principal) -> Booking:
    """The jail's booking that the CAR `raw` describes, checked against the caller's ORI."""
    try:
        header = read_header(raw)
    except TransactionError as error:
        raise errt_problem(error) from error
    try:
        # its fields only: the images are decoded where they are searched (the dispatcher,
        # outside the write lock); a broken image gets the SIB's ERRT
        car = read_tenprint_fields(raw)
    except TransactionError as error:
        raise errt_problem(error, header.tcn) from error
    if principal.ori is None or not principal.ori == car.ori == car.cri:
        raise Problem(
            403, "not your agency's transaction",
            f"the CAR's 1.008 ORI and 2.073 CRI must be the token's ORI {principal.ori}",
        )  # fmt: skip
    if not car.tcn.startswith(car.ori):
        # TCNs are one namespace: one that begins with its jail's ORI can never be another
        # jail's, so no jail takes another's TCN or learns from a refusal that it exists
        raise Problem(
            422, "transaction refused",
            f"the 1.009 TCN {car.tcn!r} must begin with the ORI {car.ori} that sends it",
            errt={"field": "1.009", "messages": [f"FIELD 1.009: TCN must begin with {car.ori}"]},
            tcn=car.tcn,
        )  # fmt: skip
    now = system.clock.now()
    booking = Booking(
        booking_id=f"BK-{car.tcn}",
        tcn=car.tcn,
        ori=car.cri,
        booked_at=now,
        release_due_at=now + HELD_FOR,
        name=car.name,
        dob=car.dob,
        sex=car.sex,
        pob=car.pob,
        charges=tuple(Charge(c.literal, c.offense_date) for c in car.charges),
    )
    return booking


def task_id(tcn: str) -> str:
    """The task of a submission is its case in the flow."""
    return derived_id("case", tcn)


@dataclass(frozen=True)
class Response:
    """A booking's answer: SRE or ERRT, as JSON fields and as ANSI/NIST bytes."""

    type: str
    fields: dict[str, Any]
    nist: bytes


def visible_booking(system: System, principal: Principal, tcn: str) -> BookingRow | None:
    """The booking under `tcn` if the caller may see it (a jail its ORI's, a bureau its
    state's, CJIS/IDENT/LESC all); None otherwise, exactly as for an unknown TCN."""
    with system.db.sessions() as session:
        row = session.scalar(select(BookingRow).where(BookingRow.tcn == tcn))
        if row is None:
            return None
        session.expunge(row)
        if principal.kind is AgencyKind.JAIL:
            return row if row.ori == principal.scope_value else None
        if principal.kind is AgencyKind.BUREAU:
            place = session.get(JurisdictionRow, row.ori)
            return row if place is not None and place.state == principal.scope_value else None
        if principal.kind in (AgencyKind.CJIS, AgencyKind.IDENT, AgencyKind.LESC):
            return row
        return None  # ERO offices by area of responsibility: a later part of issue 15


def response_of(system: System, booking: BookingRow) -> Response | None:
    """The SRE or ERRT delivered to the booking's jail, if there is one yet."""
    with system.db.sessions() as session:
        row = session.scalars(
            select(OutboxRow)
            .where(
                OutboxRow.tcn == booking.tcn,
                OutboxRow.recipient == Actor.LEA.value,
                OutboxRow.type.in_(RESPONSE_TYPES),
                OutboxRow.status == "delivered",
            )
            .order_by(OutboxRow.seq)
        ).first()
        if row is None:
            return None
        message = message_from_payload(row.type, json.loads(row.payload))
        delivered = row.delivered_at or row.available_at
    return ebts_response(booking, message, delivered)


def ebts_response(booking: BookingRow, message: Message, delivered: datetime) -> Response | None:
    """An SRE or ERRT that the booking's jail got at `delivered`, as JSON fields and as
    ANSI/NIST bytes (None for a message of another type)."""
    tcn = "R" + hashlib.sha256(message.message_id.encode()).hexdigest()[:19].upper()
    common = dict(tcn=tcn, tcr=booking.tcn, ori=FBI_CJIS_DAI, dai=booking.ori)
    if isinstance(message, SubmissionResults):
        number = ebts_fbi_number(message.fbi_number)
        identified = message.identified and number is not None
        fields: dict[str, Any] = {"identified": identified, "fbi_number": number}
        nist = encode_sre(
            tenprint.SubmissionResults(
                **common, transaction_date=delivered.date(), identified=identified,
                fbi_number=number, name=None,
            )
        )  # fmt: skip
    elif isinstance(message, TransactionErrorResponse):
        fields = {"field": message.field_tag, "messages": list(message.messages)}
        nist = encode_errt(
            tenprint.TransactionErrorResponse(
                **common, transaction_date=delivered.date(), messages=message.messages
            )
        )
    else:
        return None
    return Response(type=message.type, fields=fields, nist=nist)


def ebts_fbi_number(flow_number: str) -> str | None:
    """The FBI number as 2.014 carries it (1-9 of A-Z, 0-9): the flow's own number where it
    has that form, else its first nine letters and digits after the prefix ("FBI-b544ad780"
    -> "B544AD780"); None without one."""
    if not flow_number:
        return None
    candidate = flow_number.removeprefix("FBI-").upper()
    candidate = "".join(c for c in candidate if c.isascii() and c.isalnum())[:9]
    return candidate or None
