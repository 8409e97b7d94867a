"""A synthetic world loaded into a service's database (`scomm synth load`): its jurisdictions
and switches, both repositories enrolled, and the CARs of its bookings written to files, for
agencies to submit over HTTP. Some of the bookings' people are known to IDENT, so a
newcomer's submission reaches LESC's IAR, not only the SRE."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scomm.config import Settings
from scomm.domain.clock import SystemClock
from scomm.sim.errors import SimulatorError
from scomm.sim.synth.enrolment import enrol_repositories, load_jurisdictions
from scomm.sim.synth.transactions import booking_transaction
from scomm.sim.synth.world import build_world
from scomm.sim.synth.world_prints import EnrolmentTemplates, template_store
from scomm.system import System


class WorldAlreadyLoaded(SimulatorError):
    """The database already holds a jurisdiction of the world to load."""


@dataclass(frozen=True)
class LoadedBooking:
    """One booking's CAR as written, and what the repositories know of its person."""

    file: Path
    tcn: str
    ori: str
    person_id: str
    criminal_record: bool  # CJIS has the person's prints (an IDR on identification)
    immigration_record: bool  # IDENT has them: the booking goes on to LESC and its IAR
    defect: str | None  # a planned defect: the CAR is answered with an ERRT


def load_world(
    settings: Settings,
    seed: int,
    bookings: int,
    population: int,
    out: Path,
    advance: Callable[[int], None] | None = None,
) -> list[LoadedBooking]:
    """Build the demo world of `seed`, enrol it into `settings.database_url` and write its
    bookings' CARs into `out` (`car-NN.an2`); `advance(1)` after each person."""
    world = build_world(seed, bookings, population)
    system = System(settings, SystemClock())
    try:
        with system.unit_of_work() as uow:
            known = [p.jurisdiction.ori for p in world.jurisdictions
                     if uow.jurisdictions.get(p.jurisdiction.ori) is not None]  # fmt: skip
        if known:
            raise WorldAlreadyLoaded(
                f"the database already holds jurisdiction {known[0]} of this world: load a "
                "world once, into a new database"
            )
        load_jurisdictions(system, world)
        by_person: dict[str, list[int]] = {}
        for index, planned in enumerate(world.bookings):
            by_person.setdefault(planned.person_id, []).append(index)
        store = template_store(settings.cache_dir, system.ctx.extractor)
        drawn = enrol_repositories(
            system,
            world,
            progress=advance,
            also=lambda person: [
                (i, booking_transaction(world, i)) for i in by_person.get(person.person_id, [])
            ],
            templates=EnrolmentTemplates(system.ctx.extractor, store=store),
        )
        system.save_galleries()
    finally:
        system.close()
    out.mkdir(parents=True, exist_ok=True)
    cars = {i: raw for made in drawn.values() for i, raw in made}
    loaded = []
    for index, planned in enumerate(world.bookings):
        person = world.people[planned.person_id]
        file = out / f"car-{index:02d}.an2"
        file.write_bytes(cars[index])
        loaded.append(
            LoadedBooking(
                file=file,
                tcn=planned.booking.tcn,
                ori=planned.booking.ori,
                person_id=planned.person_id,
                criminal_record=person.criminal is not None,
                immigration_record=person.immigration is not None,
                defect=planned.defect,
            )
        )
    return loaded
