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
from scomm.domain.case import CaseState, CustodyState
from scomm.domain.clock import ScenarioClock
from scomm.domain.ids import derived_id
from scomm.domain.records import Case
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
from scomm.sim.synth.world import PlannedBooking, PlannedDisposition, World
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
    # planned bookings not made: the person was removed, or held by ICE, at the time
    skipped_absent: int = 0


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

        booked, skipped = play_timeline(system, world, events, start, car, stage, report)
        system.save_galleries()
        return RunResult(
            world=world,
            booked=booked,
            resumed=drawn is None,
            scenario_end=clock.now(),
            engine=system.ctx.engine_name,
            biometrics={"mode": "images", "engine": system.ctx.engine_name},
            skipped_absent=skipped,
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
) -> tuple[int, int]:
    """Play `events` from number `start` on (those before it are done), every message
    delivered at its time; `car(i)` is the CAR of the world's booking number i. Returns
    how many bookings were made, and how many planned bookings of the whole run were not
    made because their person was absent (`absent`); a booking not made has no court
    disposition either."""
    booked = 0
    index_of = {planned.booking.tcn: i for i, planned in enumerate(world.bookings)}
    earlier: dict[str, list[str]] = {}  # person id -> TCNs of their planned bookings so far
    with stage("running bookings", len(world.bookings)) as advance:
        for number, event in enumerate(events):
            # every event's moment is reached, done or not: the messages due before it
            # are delivered at their own times, as in a run never interrupted
            system.run_until(event.at)
            happening = event.happening
            if not isinstance(happening, PlannedBooking):
                if number >= start and not (
                    isinstance(happening, PlannedDisposition) and not _booked(system, happening.tcn)
                ):
                    play(system, event)
                continue
            tcns = earlier.setdefault(happening.person_id, [])
            if number >= start and not absent(system, tcns, event.at):
                tcn = happening.booking.tcn
                play(system, event, car(index_of[tcn]))
                booked += 1
                if report is not None:
                    report(f"booked {tcn}")
            tcns.append(happening.booking.tcn)
            advance(1)
        system.run_until(None)
    with system.unit_of_work() as uow:
        skipped = sum(not uow.bookings.tcn_used(p.booking.tcn) for p in world.bookings)
    return booked, skipped


# Where an earlier case of the run leaves its person out of reach of a later booking: held
# by ICE (custody, proceedings, awaiting removal) or removed (re-entry is not modelled).
ICE_HELD = frozenset(
    {CaseState.ICE_CUSTODY, CaseState.IN_PROCEEDINGS, CaseState.REMOVAL_ORDERED, CaseState.REMOVED}
)
# how ICE custody ends with the person free: entered after a moment, the person was held then
ICE_RELEASE = frozenset(
    {CaseState.RELEASED_ON_BOND, CaseState.RELIEF_GRANTED, CaseState.TERMINATED}
)


def absent(system: FlowSystem, tcns: list[str], at: datetime) -> bool:
    """Whether the person of the planned bookings `tcns` (earlier ones of the run; those
    not made have no case) is, at `at`, removed or held by ICE on one of their cases. The
    answer rests on the flow's own records only, so a resumed run decides as the first one
    did (a case freed after `at`, by messages a killed run delivered past it, was held at
    `at`)."""
    if not tcns:
        return False
    with system.unit_of_work() as uow:
        cases = [uow.cases.get(derived_id("case", tcn)) for tcn in tcns]
    return any(case is not None and _held(case, at) for case in cases)


def _held(case: Case, at: datetime) -> bool:
    if case.state in ICE_HELD:
        return True
    if case.state in ICE_RELEASE:
        return case.updated_at > at
    # handed over by the jail, not yet booked in by ICE
    return (
        case.custody is CustodyState.TRANSFERRED_TO_ICE and case.state is CaseState.DETAINER_LODGED
    )


def _booked(system: FlowSystem, tcn: str) -> bool:
    with system.unit_of_work() as uow:
        return uow.bookings.tcn_used(tcn)


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
    booked, skipped = play_timeline(
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
        skipped_absent=skipped,
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
