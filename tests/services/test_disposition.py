"""A court disposition reaches the booking jail at its date and is recorded in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from scomm.domain.messages import DispositionOutcome
from scomm.sim.synth.transactions import transaction_bytes
from scomm.sim.synth.world import World
from scomm.sim.synth.world_prints import booking_capture
from scomm.store.models import AuditEntryRow
from scomm.system import System


def test_disposition_is_delivered_to_the_jail_at_its_date(system: System, world: World) -> None:
    planned = next(p for p in world.bookings if p.defect is None)
    booking = planned.booking
    raw = transaction_bytes(
        booking,
        world.people[planned.person_id],
        booking_capture(0),
        world.sib_ori(booking.ori),
    )
    system.run_until(booking.booked_at)
    system.book(booking, raw)
    decided = booking.booked_at + timedelta(days=30)
    system.record_disposition(booking.tcn, DispositionOutcome.DISMISSED, decided)
    system.run_until(decided - timedelta(hours=1))
    with system.db.sessions() as session:
        names = set(session.scalars(select(AuditEntryRow.name)))
    assert "disposition_dismissed" not in names
    system.run_until(None)
    with system.db.sessions() as session:
        names = set(session.scalars(select(AuditEntryRow.name)))
    assert "disposition_dismissed" in names


def test_disposition_for_an_unknown_booking_is_refused(system: System) -> None:
    with pytest.raises(ValueError, match="no booking"):
        system.record_disposition("NO-SUCH-TCN", DispositionOutcome.CONVICTED, system.clock.now())
