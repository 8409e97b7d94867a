"""Runs a synthetic world through the system on scenario time, resuming after crashes."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select

from scomm.bus.dispatcher import FaultHook, SimulatedCrash
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.sim.errors import SimulatorError
from scomm.sim.synth.enrolment import enrol_repositories, load_jurisdictions
from scomm.sim.synth.jurisdictions import JurisdictionPlan
from scomm.sim.synth.scenario import OptOutRequest, PolicyChange, Scenario
from scomm.sim.synth.transactions import transaction_bytes
from scomm.sim.synth.world import PlannedBooking, PlannedDisposition, World
from scomm.sim.synth.world_prints import booking_capture
from scomm.store.models import AuditEntryRow, BookingRow, JurisdictionRow, OutboxRow
from scomm.system import System

# A stage reporter: called with (description, total) it returns a context manager that
# yields an `advance(n)` callable. The CLI passes Rich progress bars; tests pass nothing.
Stage = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


def silent(_: str, __: int) -> AbstractContextManager[Callable[[int], None]]:
    return nullcontext(lambda _n: None)


class SimulationError(SimulatorError):
    pass


@dataclass(frozen=True)
class RunResult:
    restarts: int
    scenario_end: datetime
    engine: str


def scenario_settings(settings: Settings, scenario: Scenario | None) -> Settings:
    """The run's settings with the scenario's safeguards and simulated-officer policy."""
    if scenario is None:
        return settings
    return replace(
        settings,
        seed=scenario.seed,
        safeguards=scenario.safeguards,
        officer_policy=scenario.officer_policy,
    )


# One thing that happens at a moment of scenario time, besides the messages themselves.
Event = tuple[datetime, int, PlannedBooking | PlannedDisposition | tuple[str, object]]


def timeline(world: World) -> list[Event]:
    """Bookings, court dispositions, detainer-policy changes and opt-out requests, in time
    order (at equal times: requests and policy changes first, then bookings, then
    dispositions). Policy changes and requests after the window are left out: no booking
    of the world meets them."""
    events: list[Event] = []
    for plan in world.jurisdictions:
        for request in plan.opt_out_requests:
            if request.at < world.end:
                events.append((request.at, 0, ("opt_out", (plan, request))))
        for change in plan.policy_changes:
            if change.at < world.end:
                events.append((change.at, 0, ("policy", (plan, change))))
    events += [(b.booking.booked_at, 1, b) for b in world.bookings]
    events += [(d.decided_at, 2, d) for d in world.dispositions]
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def run_world(
    world: World,
    settings: Settings,
    *,
    fault: FaultHook | None = None,
    stage: Stage = silent,
    max_restarts: int = 0,
) -> RunResult:
    """Book every planned booking at its time and deliver every message until none is left.

    After a `SimulatedCrash` (up to `max_restarts` of them) a fresh System is started on the
    same database, its galleries reloaded from it, and the run carries on where it stopped:
    bookings already recorded are not booked again."""
    clock = ScenarioClock(world.start - timedelta(days=1))
    system = System(settings, clock, fault=fault)
    restarts = 0
    try:
        if not system.db.is_empty():
            raise SimulationError(
                f"database {settings.database_url} already holds a run; a simulation needs "
                "an empty one (delete the file or pick another URL)"
            )
        load_jurisdictions(system, world)
        by_person: dict[str, list[int]] = {}
        for index, planned in enumerate(world.bookings):
            by_person.setdefault(planned.person_id, []).append(index)
        with stage("enrolling repositories, drawing bookings", len(world.people)) as advance:
            drawn = enrol_repositories(
                system,
                world,
                progress=advance,
                also=lambda person: [
                    (i, _transaction(world, i)) for i in by_person.get(person.person_id, [])
                ],
            )
        # each booking's CAR, kept until it is booked
        unbooked = {
            world.bookings[i].booking.tcn: raw for cars in drawn.values() for i, raw in cars
        }
        pending = timeline(world)
        with stage("running bookings", len(world.bookings)) as advance:
            while True:
                try:
                    while pending:
                        at, _, event = pending[0]
                        system.run_until(at)
                        if isinstance(event, PlannedBooking):
                            tcn = event.booking.tcn
                            if not _already_booked(system, tcn):
                                system.book(event.booking, unbooked[tcn])
                            del unbooked[tcn]
                            advance(1)
                        elif isinstance(event, PlannedDisposition):
                            if not _disposition_sent(system, event.tcn):
                                system.record_disposition(event.tcn, event.outcome, at)
                        else:
                            _apply(system, event)
                        pending.pop(0)
                    system.run_until(None)
                    system.save_galleries()
                    break
                except SimulatedCrash:
                    restarts += 1
                    if restarts > max_restarts:
                        raise
                    system.close()
                    system = System(settings, clock, fault=fault)
        return RunResult(restarts=restarts, scenario_end=clock.now(), engine=system.ctx.engine_name)
    finally:
        system.close()


def _apply(system: System, event: tuple[str, object]) -> None:
    kind, detail = event
    assert isinstance(detail, tuple)
    plan, item = detail
    if kind == "policy":
        set_detainer_policy(system, plan, item)
    else:
        record_opt_out_request(system, plan, item)


def set_detainer_policy(system: System, plan: JurisdictionPlan, change: PolicyChange) -> None:
    """A jurisdiction's detainer policy changes (local or state law, DOMAIN.md §3.4): the
    jail applies it to detainers from then on; the change is audited."""
    ori = plan.jurisdiction.ori
    with system.unit_of_work() as uow:
        row = uow.session.get(JurisdictionRow, ori)
        if row is None or row.detainer_policy == change.policy.value:
            return
        before = row.detainer_policy
        row.detainer_policy = change.policy.value
        uow.record(
            "policy",
            "DETAINER_POLICY",
            "jurisdiction",
            "",
            {"ori": ori, "from": before, "to": change.policy.value, "reason": change.reason},
        )
        uow.commit()


def record_opt_out_request(system: System, plan: JurisdictionPlan, request: OptOutRequest) -> None:
    """A county's opt-out request, recorded with its answer; a granted one is already in the
    plan's switch settings (it takes effect through them)."""
    ori = plan.jurisdiction.ori
    payload = {
        "ori": ori,
        "switch": request.switch.value,
        "granted": request.granted,
        "requested_at": request.at.isoformat(),
        "reason": request.reason,
    }
    with system.unit_of_work() as uow:
        done = uow.session.scalars(
            select(AuditEntryRow.payload).where(AuditEntryRow.name == "OPT_OUT_REQUEST")
        ).all()
        if any(json.loads(p) == payload for p in done):
            return
        uow.record("switch_request", "OPT_OUT_REQUEST", "jurisdiction", "", payload)
        uow.commit()


def _disposition_sent(system: System, tcn: str) -> bool:
    with system.db.sessions() as session:
        found = session.scalar(
            select(OutboxRow.seq).where(OutboxRow.tcn == tcn, OutboxRow.type == "DISPOSITION")
        )
        return found is not None


def _already_booked(system: System, tcn: str) -> bool:
    with system.db.sessions() as session:
        return session.scalar(select(BookingRow.tcn).where(BookingRow.tcn == tcn)) is not None


def _transaction(world: World, index: int) -> bytes:
    """The CAR of the world's booking number `index` (it carries capture
    `booking_capture(index)` of the person's fingers)."""
    planned = world.bookings[index]
    return transaction_bytes(
        planned.booking,
        world.people[planned.person_id],
        booking_capture(index),
        world.sib_ori(planned.booking.ori),
        planned.defect,
    )
