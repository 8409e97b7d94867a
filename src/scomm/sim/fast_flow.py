"""A scenario run in memory with the biometric model: the same handlers, another store.

`MemorySystem` is `scomm.system.System` on a `scomm.bus.memory.MemoryStore` instead of a
database: the actors' handlers come from the same place (`scomm.system.actor_handlers`), so
every hop, decision and audit entry of the flow is the one a database run makes. With
`ModelGallery` galleries and model images (`scomm.sim.biometric_model`) the fingerprint
engine's work is replaced by draws from its measured error rates: no ridge images are grown,
no minutiae extracted, no WSQ coded. `run_model` is what `scomm simulate --biometrics
model` runs; what it leaves is the store (audit entries, records) for the report.

A model run is not kept: there is no database to resume from, no audit chain hashes and no
signed checkpoints. A run that has to be kept, audited or resumed uses images.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from scomm.biometrics.wsq_codec import DecodedImageCache
from scomm.bus.memory import MemoryDispatcher, MemoryStore, MemoryUnitOfWork
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.domain.hold import us_federal_holiday
from scomm.domain.ids import derived_id
from scomm.domain.messages import Actor, CourtDisposition, DispositionOutcome
from scomm.domain.records import Booking
from scomm.domain.switches import SwitchSetting
from scomm.nist.car import encode_tenprint, transaction_digest
from scomm.services.context import ServiceContext
from scomm.services.errors import UnknownBooking
from scomm.services.lea import Booked
from scomm.services.switches import set_switch
from scomm.sim.biometric_model import (
    MODEL_ENGINE,
    BiometricModel,
    ModelCodec,
    ModelExtractor,
    ModelGallery,
    enrolment_templates,
    model_images,
)
from scomm.sim.errors import SimulatorError
from scomm.sim.synth.enrolment import enrol_person, load_jurisdictions
from scomm.sim.synth.ridge_master import FINGERS
from scomm.sim.synth.transactions import damage, submission
from scomm.sim.synth.world import World
from scomm.sim.synth.world_prints import ENROLMENT_CAPTURE, booking_capture
from scomm.system import actor_handlers


class NotInMemory(SimulatorError):
    """What a memory run cannot do (a task submitted over the service)."""


class MemorySystem:
    """The flow's actors on a `MemoryStore`, on a scenario clock (see the module)."""

    def __init__(self, settings: Settings, clock: ScenarioClock, ctx: ServiceContext) -> None:
        self.settings = settings
        self.clock = clock
        self.ctx = ctx
        self.store = MemoryStore()
        self.lea, handlers = actor_handlers(ctx)
        self.dispatcher = MemoryDispatcher(self.store, clock, handlers)

    def unit_of_work(self, cause: str = "") -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store, self.clock, cause=cause)

    def book(self, booking: Booking, transaction: bytes, submitted_by: str | None = None) -> Booked:
        if submitted_by is not None:
            raise NotInMemory("a memory run books no task submitted over the service")
        with self.unit_of_work() as uow:
            booked = self.lea.book(uow, booking, transaction)
            uow.commit()
        return booked

    def record_disposition(
        self, tcn: str, outcome: DispositionOutcome, decided_at: datetime
    ) -> None:
        """As `System.record_disposition` (the same message, with the same id)."""
        with self.unit_of_work(cause=f"disposition|{tcn}") as uow:
            if not uow.bookings.tcn_used(tcn):
                raise UnknownBooking(f"no booking with TCN {tcn!r}")
            uow.emit(
                CourtDisposition(
                    message_id=uow.new_message_id(),
                    case_id=derived_id("case", tcn),
                    tcn=tcn,
                    sender=Actor.COURT,
                    recipient=Actor.LEA,
                    outcome=outcome,
                    decided_at=decided_at,
                ),
                at=max(decided_at, uow.now),
            )
            uow.commit()

    def set_switch(self, setting: SwitchSetting) -> None:
        with self.unit_of_work() as uow:
            set_switch(uow, setting)
            uow.commit()

    def run_until(self, moment: datetime | None = None) -> int:
        """Deliver messages in time order up to `moment` (all of them when None), moving
        the clock to each message's time (as `System.run_until` on a scenario clock)."""
        handled = 0
        while True:
            due = self.dispatcher.next_due()
            if due is None or (moment is not None and due > moment):
                break
            self.clock.advance_to(due)
            handled += self.dispatcher.run_due()
        if moment is not None:
            self.clock.advance_to(moment)
        return handled


@dataclass(frozen=True)
class ModelRun:
    """What `prepare_model` sets up: the system and the model it runs."""

    system: MemorySystem
    model: BiometricModel

    def biometrics(self) -> dict[str, Any]:
        """What the output says of the biometrics of the run."""
        ctx = self.system.ctx
        sizes = {"criminal": len(ctx.criminal_gallery), "immigration": len(ctx.immigration_gallery)}
        searches = {
            name: getattr(gallery, "searches", 0)
            for name, gallery in (
                ("criminal", ctx.criminal_gallery),
                ("immigration", ctx.immigration_gallery),
            )
        }
        return self.model.describe(sizes) | {"searches": searches}


def prepare_model(world: World, settings: Settings, profile: str) -> ModelRun:
    """A memory system with the biometric model of engine profile `profile`, the world's
    jurisdictions, switches and both repositories loaded (as `driver_prepare` loads them
    into a database, the model's templates standing in for the extracted ones)."""
    model = BiometricModel.for_engine(profile)
    ctx = ServiceContext(
        settings=settings,
        extractor=ModelExtractor(),
        codec=ModelCodec(),
        engine_name=f"{MODEL_ENGINE} ({model.engine})",
        criminal_gallery=ModelGallery(model, "criminal", settings.seed),
        immigration_gallery=ModelGallery(model, "immigration", settings.seed),
        is_holiday=us_federal_holiday(),
        rules=world.catalogue,
    )
    system = MemorySystem(settings, ScenarioClock(world.start - timedelta(days=1)), ctx)
    load_jurisdictions(system, world)
    for person in world.people.values():
        if person.criminal is not None or person.immigration is not None:
            templates = enrolment_templates(person.finger_seed, ENROLMENT_CAPTURE, FINGERS)
            enrol_person(system, person, templates)
    return ModelRun(system, model)


def model_transaction(
    world: World, index: int, fingers: int = 10, decoded: DecodedImageCache | None = None
) -> bytes:
    """The CAR of the world's booking number `index` as `transactions.booking_transaction`
    makes it (its planned defect too), with model images in place of the person's rolled
    prints, as legacy Type-4 records (uncompressed): the same handlers read them, and
    nistitl parses their binary records about three times faster than Type-14's tagged
    fields (the flow parses a CAR three times: the SIB's decode and re-addressing, CJIS's
    decode; IDENT finds CJIS's in the decode cache).

    With `decoded` (the system's decode cache), an undamaged CAR's decoded value is kept
    there too, so the SIB's decode finds it instead of parsing again: `encode_tenprint`
    checks every field it writes and its decode gives back the submission it encoded
    (`tests/sim/test_fast_flow.py`). A damaged CAR is left to the SIB to find out."""
    planned = world.bookings[index]
    person = world.people[planned.person_id]
    images = model_images(person.finger_seed, booking_capture(index), FINGERS[:fingers])
    sub = submission(planned.booking, person, 0, world.sib_ori(planned.booking.ori), images)
    raw = encode_tenprint(sub, compression="NONE", finger_record_type=4)
    if planned.defect:
        return damage(raw, planned.defect)
    if decoded is not None:
        decoded.keep_transaction(transaction_digest(raw), sub)
    return raw
