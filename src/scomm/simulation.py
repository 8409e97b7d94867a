"""Runs a synthetic world through the system on scenario time, resuming after crashes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select

from scomm.bus.dispatcher import FaultHook, SimulatedCrash
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.store.models import BookingRow
from scomm.synth.enrolment import enrol_repositories, load_jurisdictions
from scomm.synth.transactions import transaction_bytes
from scomm.synth.world import World
from scomm.system import System

# A stage reporter: called with (description, total) it returns a context manager that
# yields an `advance(n)` callable. The CLI passes Rich progress bars; tests pass nothing.
Stage = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


def silent(_: str, __: int) -> AbstractContextManager[Callable[[int], None]]:
    return nullcontext(lambda _n: None)


class SimulationError(Exception):
    pass


@dataclass(frozen=True)
class RunResult:
    restarts: int
    scenario_end: datetime
    engine: str


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
        with stage("enrolling repositories", len(world.people)) as advance:
            enrol_repositories(system, world, progress=advance)
        pending = list(zip(world.bookings, _transactions(world), strict=True))
        with stage("running bookings", len(pending)) as advance:
            while True:
                try:
                    while pending:
                        planned, raw = pending[0]
                        system.run_until(planned.booking.booked_at)
                        if not _already_booked(system, planned.booking.tcn):
                            system.book(planned.booking, raw)
                        pending.pop(0)
                        advance(1)
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


def _already_booked(system: System, tcn: str) -> bool:
    with system.db.sessions() as session:
        return session.scalar(select(BookingRow.tcn).where(BookingRow.tcn == tcn)) is not None


def _transactions(world: World) -> Iterator[bytes]:
    rng = np.random.default_rng([world.seed, 11])
    for planned in world.bookings:
        yield transaction_bytes(
            planned.booking,
            world.people[planned.person_id],
            rng,
            world.sib_ori(planned.booking.ori),
            planned.defect,
        )
