"""The simulation driver: a world prepared into a database once, then its whole timeline
played on scenario time; killed at any point and started again, it carries on.

`run(spec, settings)` is what `scomm simulate`, `scomm demo`, `scomm ops run-world` and
the crash tests run:

1. The world is drawn from the spec (`driver_spec.RunSpec`: scenario, engine, CAR images).
2. It is prepared into the database once (`driver_prepare`): jurisdictions, switches, both
   repositories, and an audit entry recording the spec. A database prepared for this spec
   resumes; one prepared for another, or holding anything else, is refused (`RunRefused`).
3. The timeline (`driver_timeline`: bookings, court dispositions, detainer-policy changes,
   opt-out requests) is played in time order, each event in one committed transaction, the
   messages delivered in time order between them. A restart finds the last event done and
   carries on after it: nothing is booked, sent or handled twice (the outbox holds the
   messages still to deliver; a handler's effects and its delivery mark commit together).

Everything a run keeps between its steps is in the database or owned by this call (the
enrolment templates of its people); nothing is left behind in the process.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from scomm.bus.dispatcher import FaultHook
from scomm.bus.memory import MemoryStore
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.sim.driver_prepare import PREPARED, prepare
from scomm.sim.driver_spec import (
    ENGINES,
    RunRefused,
    RunSpec,
    engine_profile,
    scenario_settings,
)
from scomm.sim.driver_timeline import Event, play, resume_point, timeline
from scomm.sim.fast_flow import model_transaction, prepare_model
from scomm.sim.flow_system import FlowSystem
from scomm.sim.synth.transactions import booking_transaction
from scomm.sim.synth.world import PlannedBooking, World
from scomm.store.models import OutboxRow
from scomm.system import System

__all__ = [
    "ENGINES",
    "PREPARED",
    "Report",
    "RunRefused",
    "RunResult",
    "RunSpec",
    "Stage",
    "run",
    "scenario_settings",
    "silent",
]

# A stage reporter: called with (description, total) it returns a context manager that
# yields an `advance(n)` callable. The CLI passes Rich progress bars; tests pass nothing.
Stage = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]
# A line reporter: one line per booking made and per message delivered.
Report = Callable[[str], None]


def silent(_: str, __: int) -> AbstractContextManager[Callable[[int], None]]:
    return nullcontext(lambda _n: None)


@dataclass(frozen=True)
class RunResult:
    world: World
    booked: int  # bookings made by this call (0 when it found the run finished)
    resumed: bool  # the database was already prepared for this run
    scenario_end: datetime
    engine: str  # the engine's own name (e.g. skeleton-mcc-v1)
    # a model run's store (its audit entries and records; None: they are in the database)
    store: MemoryStore | None = None
    # how the repositories matched: {"mode": "images", ...} or the model's description
    biometrics: dict[str, Any] = field(default_factory=dict)


def run(
    spec: RunSpec,
    settings: Settings,
    *,
    fault: FaultHook | None = None,
    stage: Stage = silent,
    report: Report | None = None,
) -> RunResult:
    """Run (or resume) `spec` on `settings.database_url` to the end: every event of the
    timeline done once, every message delivered. The scenario's seed, safeguards and
    officer policy replace those of `settings`.

    `fault` is the dispatcher's fault hook (tests raise `SimulatedCrash` from it; the call
    then ends with it, and calling `run` again resumes); `stage` reports the stages and
    their progress; `report` gets a line per booking made and per message delivered."""
    spec.check()
    settings = scenario_settings(settings, spec.scenario)
    with stage("building the world", 1) as advance:
        world = spec.world()
        advance(1)

    profile = engine_profile(spec.engine, settings)
    if spec.biometrics_for(world) == "model":
        return _run_model(spec, settings, world, profile, stage, report)

    def open_system(chosen: Settings, clock: ScenarioClock) -> System:
        return _system(chosen, clock, profile, _observed(fault, report))

    with stage("enrolling repositories, drawing bookings", len(world.people)) as advance:
        drawn = prepare(world, settings, spec, open_system, advance)
    cars = drawn or {}
    clock = ScenarioClock(world.start - timedelta(days=1))
    system = open_system(settings, clock)
    try:
        events = timeline(world)
        start = resume_point(system, events)

        def car(index: int) -> bytes:
            tcn = world.bookings[index].booking.tcn
            return cars.pop(tcn, None) or booking_transaction(
                world, index, spec.compression, spec.fingers
            )

        booked = play_timeline(system, world, events, start, car, stage, report)
        system.save_galleries()
        return RunResult(
            world=world,
            booked=booked,
            resumed=drawn is None,
            scenario_end=clock.now(),
            engine=system.ctx.engine_name,
            biometrics={"mode": "images", "engine": system.ctx.engine_name},
        )
    finally:
        system.close()


def play_timeline(
    system: FlowSystem,
    world: World,
    events: list[Event],
    start: int,
    car: Callable[[int], bytes],
    stage: Stage,
    report: Report | None,
) -> int:
    """Play `events` from number `start` on (those before it are done), every message
    delivered at its time; `car(i)` is the CAR of the world's booking number i. Returns
    how many bookings were made."""
    booked = 0
    index_of = {planned.booking.tcn: i for i, planned in enumerate(world.bookings)}
    with stage("running bookings", len(world.bookings)) as advance:
        for number, event in enumerate(events):
            # every event's moment is reached, done or not: the messages due before it
            # are delivered at their own times, as in a run never interrupted
            system.run_until(event.at)
            happening = event.happening
            if not isinstance(happening, PlannedBooking):
                if number >= start:
                    play(system, event)
                continue
            if number >= start:
                tcn = happening.booking.tcn
                play(system, event, car(index_of[tcn]))
                booked += 1
                if report is not None:
                    report(f"booked {tcn}")
            advance(1)
        system.run_until(None)
    return booked


def _run_model(
    spec: RunSpec,
    settings: Settings,
    world: World,
    profile: str,
    stage: Stage,
    report: Report | None,
) -> RunResult:
    """The whole run in memory, with the biometric model in place of the engine
    (`fast_flow`): nothing is written to a database, nothing resumes."""
    with stage("loading repositories (biometric model)", 1) as advance:
        prepared = prepare_model(world, settings, profile)
        advance(1)
    system = prepared.system
    booked = play_timeline(
        system,
        world,
        timeline(world),
        0,
        lambda index: model_transaction(world, index, spec.fingers, system.ctx.decoded_images),
        stage,
        report,
    )
    return RunResult(
        world=world,
        booked=booked,
        resumed=False,
        scenario_end=system.clock.now(),
        engine=system.ctx.engine_name,
        store=system.store,
        biometrics=prepared.biometrics(),
    )


def _system(
    settings: Settings, clock: ScenarioClock, profile: str, fault: FaultHook | None
) -> System:
    """A System running the engine profile `profile` (see `driver_spec.engine_profile`)."""
    return System(replace(settings, engine=profile), clock, fault=fault)


def _observed(fault: FaultHook | None, report: Report | None) -> FaultHook | None:
    """The dispatcher's hook: the caller's fault hook, and a line per delivered message."""
    if report is None:
        return fault

    def hook(point: str, row: OutboxRow) -> None:
        if fault is not None:
            fault(point, row)
        if point == "after_handle":
            report(f"delivered {row.seq} {row.type} {row.case_id}")

    return hook
