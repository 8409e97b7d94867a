"""The jail's bookings and their charges."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.domain.records import Booking
from scomm.store.models import BookingRow, ChargeRow


class Bookings(Protocol):
    def add(self, booking: Booking, case_id: str) -> None: ...

    def tcn_used(self, tcn: str) -> bool:
        """Whether a booking already went out under `tcn`."""
        ...


class SqlBookings:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, booking: Booking, case_id: str) -> None:
        self._session.add(
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
        self._session.flush()  # the booking row before the charges that point at it
        for position, charge in enumerate(booking.charges, start=1):
            self._session.add(
                ChargeRow(
                    booking_id=booking.booking_id,
                    position=position,
                    literal=charge.literal,
                    offense_date=charge.offense_date,
                )
            )

    def tcn_used(self, tcn: str) -> bool:
        return self._session.scalar(select(BookingRow.tcn).where(BookingRow.tcn == tcn)) is not None
