"""The safeguards across actors: (b) withdrawal on dismissal, run between the jail and ERO
on fakes, on and off; and (d) match evidence through the real engine, on the whole flow.

The safeguards of one actor are checked with its handler: (a) status currency and (d) the
IAR's evidence in test_lesc.py, (c) the recorded officer decision in test_ero.py and
test_lea.py.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from fakes import FakeBus, FakeUnitOfWork, case, context, message_fields
from sqlalchemy import select

from scomm.config import Settings
from scomm.domain.case import CaseState, CustodyState
from scomm.domain.clock import ScenarioClock
from scomm.domain.messages import Actor, CourtDisposition, DispositionOutcome
from scomm.domain.records import DetainerRecord, DetainerStatus
from scomm.domain.safeguards import Safeguards
from scomm.nist.nlets import parse_iaq
from scomm.services.ero import FieldOffice
from scomm.services.lea import BookingJail
from scomm.sim.synth.transactions import transaction_bytes
from scomm.sim.synth.world import World
from scomm.sim.synth.world_prints import booking_capture
from scomm.store.models import OutboxRow
from scomm.system import System

START = datetime(2011, 6, 1, 9)


def jail_and_ice(on: bool = True) -> FakeBus:
    """A jail holding case-1 on an honoured detainer, and the field office, on one bus."""
    uow = FakeUnitOfWork(ScenarioClock(START))
    ctx = context(Settings(seed=3, safeguards=Safeguards(withdraw_on_dismissal=on)))
    case(uow, state=CaseState.DETAINER_LODGED)
    uow.detainers.add(
        DetainerRecord(
            detainer_id="det-1",
            case_id="case-1",
            form="I-247",
            lodged_at=START,
            decided_by="simulated:sim-officer-v1",
            status=DetainerStatus.HONOURED,
            honoured=True,
        )
    )
    return FakeBus(uow, {Actor.LEA: BookingJail(ctx), Actor.ERO: FieldOffice(ctx)})


def disposition(outcome: DispositionOutcome, at: datetime) -> CourtDisposition:
    return CourtDisposition(
        **message_fields(message_id="disp-1", sender=Actor.COURT, recipient=Actor.LEA),
        outcome=outcome,
        decided_at=at,
    )


# -- (b) withdrawal on dismissal --


@pytest.mark.parametrize("on", [True, False])
def test_a_dismissal_withdraws_the_pending_detainer(on: bool) -> None:
    bus = jail_and_ice(on)
    bus.send(disposition(DispositionOutcome.DISMISSED, START))
    bus.run()
    uow = bus.uow
    detainer, found = uow.detainers.get("det-1"), uow.cases.get("case-1")
    assert detainer is not None and found is not None
    if on:
        assert detainer.status is DetainerStatus.WITHDRAWN and detainer.withdrawn_at is not None
        assert found.custody is CustodyState.RELEASED
    else:  # the original program: held on the detainer after the charges were dropped
        assert detainer.status in (DetainerStatus.TRANSFERRED, DetainerStatus.EXPIRED)
    assert ("WITHDRAW_ON_DISMISSAL" in uow.names("safeguard")) is on
    assert ("detainer_withdrawn" in uow.names("outcome")) is on
    assert bool(uow.sent("DETAINER_WITHDRAWN")) is on
    forwarded = [m for m in uow.sent("DISPOSITION") if m.recipient is Actor.ERO]
    assert bool(forwarded) is on  # the original program never told ICE


def test_a_conviction_withdraws_nothing() -> None:
    bus = jail_and_ice()
    bus.send(disposition(DispositionOutcome.CONVICTED, START + timedelta(hours=1)))
    bus.run()
    assert bus.uow.sent("DETAINER_WITHDRAWN") == []
    detainer = bus.uow.detainers.get("det-1")
    assert detainer is not None and detainer.status is DetainerStatus.HONOURED


# -- (d) through the real engine: paired minutiae and the IDENT encounter list --


def outbox(system: System, type_name: str) -> list[dict[str, Any]]:
    with system.db.sessions() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.type == type_name)).all()
        return [json.loads(r.payload) for r in rows]


def test_a_real_match_carries_paired_minutiae_and_the_encounter_list(
    system: System, world: World
) -> None:
    planned = next(
        p
        for p in world.bookings
        if p.defect is None
        and world.people[p.person_id].immigration is not None
        and any(
            j.jurisdiction.ori == p.booking.ori
            and j.jurisdiction.activation_at is not None
            and j.jurisdiction.activation_at <= p.booking.booked_at
            for j in world.jurisdictions
        )
    )
    booking = planned.booking
    raw = transaction_bytes(
        booking,
        world.people[planned.person_id],
        booking_capture(0),
        world.sib_ori(booking.ori),
    )
    system.run_until(booking.booked_at)
    system.book(booking, raw)
    system.run_until(booking.booked_at + timedelta(days=2))
    (idr,) = outbox(system, "IDR_MATCH")
    assert [e["kind"] for e in idr["encounters"]][0] == "immigration_encounter"
    (query,) = outbox(system, "IAQ")
    parsed = parse_iaq(query["nlets_text"])
    assert (parsed.sender_ori, parsed.offense_code) == (booking.ori, query["offense_code"])
    (iar,) = outbox(system, "IAR")
    best = iar["candidates"][0]
    assert best["identity_id"] == iar["ident_id"]
    assert best["paired_minutiae"], "the engine explains its best fingers"
    for pairs in best["paired_minutiae"].values():
        assert pairs and all(len(p) == 4 and 0 <= min(p) and max(p) < 512 for p in pairs)
    assert iar["encounters"] == idr["encounters"]
    assert iar["rule_set"] in ("2009-offense-type", "2011-conviction-based")
