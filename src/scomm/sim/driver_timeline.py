"""A world's timeline (bookings, court dispositions, detainer-policy changes, opt-out
requests) and where a run of it stopped.

The driver plays the timeline in order, one event one committed transaction, so the
events a killed run got through are always a prefix of the timeline: the last event the
database shows done (`resume_point`) says where to carry on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from scomm.services.jurisdictions import (
    OPT_OUT_AUDIT,
    POLICY_AUDIT,
    policy_change_payload,
    record_opt_out_request,
    set_detainer_policy,
)
from scomm.services.jurisdictions import opt_out_payload as opt_out_request_payload
from scomm.sim.flow_system import FlowSystem
from scomm.sim.synth.jurisdictions import JurisdictionPlan
from scomm.sim.synth.scenario import OptOutRequest, PolicyChange
from scomm.sim.synth.world import PlannedBooking, PlannedDisposition, World
from scomm.store.models import AuditEntryRow, BookingRow, OutboxRow
from scomm.system import System


@dataclass(frozen=True)
class PolicyEvent:
    plan: JurisdictionPlan
    change: PolicyChange


@dataclass(frozen=True)
class OptOutEvent:
    plan: JurisdictionPlan
    request: OptOutRequest


Happening = PlannedBooking | PlannedDisposition | PolicyEvent | OptOutEvent


@dataclass(frozen=True)
class Event:
    """One thing that happens at a moment of scenario time, besides the messages."""

    at: datetime
    happening: Happening


def timeline(world: World) -> list[Event]:
    """Bookings, court dispositions, detainer-policy changes and opt-out requests, in time
    order (at equal times: requests and policy changes first, then bookings, then
    dispositions; each kind in the world's order). Policy changes and requests after the
    window are left out: no booking of the world meets them."""
    keyed: list[tuple[datetime, int, Happening]] = []
    for plan in world.jurisdictions:
        for request in plan.opt_out_requests:
            if request.at < world.end:
                keyed.append((request.at, 0, OptOutEvent(plan, request)))
        for change in plan.policy_changes:
            if change.at < world.end:
                keyed.append((change.at, 0, PolicyEvent(plan, change)))
    keyed += [(b.booking.booked_at, 1, b) for b in world.bookings]
    keyed += [(d.decided_at, 2, d) for d in world.dispositions]
    keyed.sort(key=lambda e: (e[0], e[1]))
    return [Event(at, happening) for at, _, happening in keyed]


def resume_point(system: System, events: list[Event]) -> int:
    """The index of the first event the database does not show done (0 for a new run,
    len(events) for a finished one). An event before the last one done is done too: the
    driver commits each event before it starts the next. (A policy change that changed
    nothing leaves no trace; after the last traced event, doing it again changes nothing
    again.)"""
    with system.db.sessions() as session:
        booked = set(session.scalars(select(BookingRow.tcn)))
        disposed = set(
            session.scalars(select(OutboxRow.tcn).where(OutboxRow.type == "DISPOSITION"))
        )
        traced = session.execute(
            select(AuditEntryRow.name, AuditEntryRow.payload).where(
                AuditEntryRow.name.in_((POLICY_AUDIT, OPT_OUT_AUDIT))
            )
        ).all()
    # a policy change's entry also says which policy it replaced, which the event does not
    changes = {_key(json.loads(p) | {"from": ""}) for name, p in traced if name == POLICY_AUDIT}
    requests = {_key(json.loads(p)) for name, p in traced if name == OPT_OUT_AUDIT}
    last_done = -1
    for index, event in enumerate(events):
        h = event.happening
        if isinstance(h, PlannedBooking):
            done = h.booking.tcn in booked
        elif isinstance(h, PlannedDisposition):
            done = h.tcn in disposed
        elif isinstance(h, PolicyEvent):
            done = _key(policy_payload(h, "")) in changes
        else:
            done = _key(opt_out_payload(h)) in requests
        if done:
            last_done = index
    return last_done + 1


def play(system: FlowSystem, event: Event, transaction: bytes | None = None) -> None:
    """Do one event of the timeline, in one committed transaction (a booking needs its
    CAR's bytes)."""
    h = event.happening
    if isinstance(h, PlannedBooking):
        assert transaction is not None
        system.book(h.booking, transaction)
    elif isinstance(h, PlannedDisposition):
        system.record_disposition(h.tcn, h.outcome, event.at)
    elif isinstance(h, PolicyEvent):
        change_detainer_policy(system, h)
    else:
        request_opt_out(system, h)


def change_detainer_policy(system: FlowSystem, event: PolicyEvent) -> None:
    """The jurisdiction changes its detainer policy (`services.jurisdictions`: audited,
    unless it is the policy already in force)."""
    change = event.change
    with system.unit_of_work() as uow:
        ori = event.plan.jurisdiction.ori
        if set_detainer_policy(uow, ori, change.policy, change.reason, change.at):
            uow.commit()


def request_opt_out(system: FlowSystem, event: OptOutEvent) -> None:
    """A county's opt-out request, recorded with its answer; a granted one is already in the
    plan's switch settings (it takes effect through them)."""
    ori, r = event.plan.jurisdiction.ori, event.request
    with system.unit_of_work() as uow:
        record_opt_out_request(uow, ori, r.switch, r.granted, r.at, r.reason)
        uow.commit()


def policy_payload(event: PolicyEvent, before: str) -> dict[str, object]:
    """The audit payload of the change, as the service writes it, with `before` as the
    policy it replaced ("" where that is not known), to find it done."""
    change = event.change
    ori = event.plan.jurisdiction.ori
    payload = policy_change_payload(ori, change.policy, change.policy, change.reason, change.at)
    return payload | {"from": before}


def opt_out_payload(event: OptOutEvent) -> dict[str, object]:
    """The audit payload of the request, as the service writes it, to find it done."""
    r = event.request
    return opt_out_request_payload(event.plan.jurisdiction.ori, r.switch, r.granted, r.at, r.reason)


def _key(payload: dict[str, object]) -> str:
    return json.dumps(payload, sort_keys=True)
