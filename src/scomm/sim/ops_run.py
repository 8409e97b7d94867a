"""A resumable run of a synthetic world: killed at any point, started again, it carries on.

`scomm ops run-world` (or `python -m scomm.sim.ops_run`, same options) books a world's
bookings at their scenario times and delivers every message. Everything it does is in the
database: on a restart it skips the bookings already recorded, and the outbox holds the
messages still to deliver, so a run killed with SIGKILL at any moment and started again
on the same database ends in the same state as an uninterrupted one. The crash test
(`tests/e2e/test_crash_kill.py`) does exactly that.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from scomm.bus.dispatcher import FaultHook
from scomm.bus.unit_of_work import UnitOfWork
from scomm.config import DEFAULT_ENGINE, Settings
from scomm.domain.clock import ScenarioClock
from scomm.nist.car import encode_tenprint
from scomm.sim.errors import SimulatorError
from scomm.sim.synth.enrolment import enrol_repositories, load_jurisdictions
from scomm.sim.synth.ridge_master import FINGERS
from scomm.sim.synth.transactions import damage, submission
from scomm.sim.synth.world import World, build_world
from scomm.sim.synth.world_prints import booking_capture, capture_images
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, BookingRow, OutboxRow
from scomm.system import BASELINE_ENGINE, System

PREPARED = "RUN_PREPARED"  # the audit entry that says the world is loaded and the run may start
# A run's engine, as its spec records it, and the engine profile it names.
ENGINE_PROFILES = {"minutiae": DEFAULT_ENGINE, "baseline": BASELINE_ENGINE}
ENGINES = tuple(ENGINE_PROFILES)

Report = Callable[[str], None]


class RunRefused(SimulatorError):
    """The database holds something else than this run (another world, or a broken start)."""


@dataclass(frozen=True)
class RunSpec:
    """What a run is: the same spec on the same database resumes it."""

    seed: int
    bookings: int
    population: int | None
    engine: str
    compression: str
    fingers: int = 10

    def as_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "bookings": self.bookings,
            "population": self.population,
            "engine": self.engine,
            "compression": self.compression,
            "fingers": self.fingers,
        }


def run_resumable(
    url: str, spec: RunSpec, report: Report | None = None, fault: FaultHook | None = None
) -> int:
    """Run (or resume) `spec` on database `url` to the end; returns how many bookings were
    made by this call. `report` gets one line per booking and per delivered message;
    `fault` is the dispatcher's fault hook (tests raise SimulatedCrash from it)."""
    if spec.engine not in ENGINES:
        raise RunRefused(f"unknown engine {spec.engine!r}; one of {', '.join(ENGINES)}")
    world = build_world(seed=spec.seed, bookings=spec.bookings, population=spec.population)
    settings = Settings(database_url=url, seed=spec.seed)
    _prepare(world, settings, spec)

    def progress(point: str, row: OutboxRow) -> None:
        if fault is not None:
            fault(point, row)
        if point == "after_handle" and report is not None:
            report(f"delivered {row.seq} {row.type} {row.case_id}")

    clock = ScenarioClock(world.start - timedelta(days=1))
    system = _system(settings, clock, spec, progress)
    booked = 0
    try:
        for index, planned in enumerate(world.bookings):
            system.run_until(planned.booking.booked_at)
            if _already_booked(system, planned.booking.tcn):
                continue
            raw = booking_transaction(world, index, spec.compression, spec.fingers)
            system.book(planned.booking, raw)
            booked += 1
            if report is not None:
                report(f"booked {planned.booking.tcn}")
        system.run_until(None)
    finally:
        system.close()
    return booked


def _system(
    settings: Settings, clock: ScenarioClock, spec: RunSpec, fault: object = None
) -> System:
    settings = dataclasses.replace(settings, engine=ENGINE_PROFILES[spec.engine])
    return System(settings, clock, fault=fault)  # type: ignore[arg-type]


def _prepare(world: World, settings: Settings, spec: RunSpec) -> None:
    """Load the world's jurisdictions, switches and repositories once, atomically.

    A SQLite database is prepared in a side file renamed into place when complete, so a
    process killed while preparing leaves nothing; another database must be empty or
    already prepared for this spec.
    """
    url = settings.database_url
    wanted = {**spec.as_dict(), "world": world_fingerprint(world)}
    found = _prepared_spec(url)
    if found is not None:
        if found == wanted:
            return
        if {k: v for k, v in found.items() if k != "world"} == spec.as_dict():
            raise RunRefused(
                f"database {url} holds a run of this spec on another world (the world's "
                "code changed since it started): it cannot be resumed"
            )
        raise RunRefused(f"database {url} holds another run: {found}")
    target = _sqlite_path(url)
    if not _is_empty(url):
        raise RunRefused(
            f"database {url} is neither empty nor prepared for this run "
            "(was its preparation interrupted? start again on an empty one)"
        )
    side = target.with_name(target.name + ".preparing") if target else None
    if side is not None and target is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{side}{suffix}").unlink(missing_ok=True)
        work = Settings(database_url=f"sqlite:///{side}", seed=settings.seed)
    else:
        work = settings
    clock = ScenarioClock(world.start - timedelta(days=1))
    system = _system(work, clock, spec)
    try:
        load_jurisdictions(system, world)
        enrol_repositories(system, world)
        with UnitOfWork(system.db, clock) as uow:
            uow.record("operation", PREPARED, "operator", "", wanted)
            uow.commit()
        if side is not None:  # everything into the main file before it is renamed
            with system.db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        system.close()
    if side is not None and target is not None:
        os.replace(side, target)
        for suffix in ("-wal", "-shm"):
            Path(f"{side}{suffix}").unlink(missing_ok=True)


def world_fingerprint(world: World) -> str:
    """A digest of the bookings and people a run is made of: a resumed run must find the
    world it started with."""
    digest = hashlib.sha256()
    for planned in world.bookings:
        b = planned.booking
        digest.update(
            f"{b.tcn}|{b.booked_at.isoformat()}|{planned.person_id}|{planned.defect}\n".encode()
        )
    digest.update(f"{len(world.people)}|{world.seed}".encode())
    return digest.hexdigest()[:32]


def _prepared_spec(url: str) -> dict[str, object] | None:
    import json

    path = _sqlite_path(url)
    if path is not None and not path.exists():
        return None
    db = Database(url)
    try:
        db.migrate()
        with db.sessions() as session:
            payload = session.scalar(
                select(AuditEntryRow.payload).where(
                    AuditEntryRow.kind == "operation", AuditEntryRow.name == PREPARED
                )
            )
    finally:
        db.dispose()
    return None if payload is None else dict(json.loads(payload))


def _is_empty(url: str) -> bool:
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        return True
    db = Database(url)
    try:
        db.migrate()
        with db.sessions() as session:
            return session.scalar(select(AuditEntryRow.seq).limit(1)) is None and db.is_empty()
    finally:
        db.dispose()


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def _already_booked(system: System, tcn: str) -> bool:
    with system.db.sessions() as session:
        return session.scalar(select(BookingRow.tcn).where(BookingRow.tcn == tcn)) is not None


def booking_transaction(
    world: World, index: int, compression: str = "WSQ20", fingers: int = 10
) -> bytes:
    """Booking `index`'s CAR (with the world's planned defect, if any): capture
    `booking_capture(index)` of the person's fingers, so that a resumed run makes only the
    ones still to book, the same as the first run would have."""
    planned = world.bookings[index]
    person = world.people[planned.person_id]
    images = capture_images(person.finger_seed, booking_capture(index), FINGERS[:fingers])
    sub = submission(planned.booking, person, 0, world.sib_ori(planned.booking.ori), images)
    raw = encode_tenprint(sub, compression=compression)
    return damage(raw, planned.defect) if planned.defect else raw
