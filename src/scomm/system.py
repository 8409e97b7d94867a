"""The composition root: one database, one clock, the actors and the dispatcher, wired."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import suppress
from datetime import date, datetime

from sqlalchemy import select

from scomm.audit.checkpoints import Anchor
from scomm.audit.gallery_snapshots import load_gallery, save_snapshot
from scomm.biometrics.memo import MemoisedExtractor
from scomm.biometrics.profiles import (
    BASELINE_ENGINE,
    Engine,
    build_engine,
    load_profile,
    resolve_profile,
)
from scomm.biometrics.profiles.identity import profile_digest
from scomm.biometrics.protocols import Gallery
from scomm.biometrics.wsq_codec import DecodedImageCache
from scomm.bus.dispatcher import Dispatcher, FaultHook, Handler
from scomm.bus.unit_of_work import RenderedMessage, UnitOfWork
from scomm.config import Settings
from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.clock import Clock, ScenarioClock
from scomm.domain.hold import us_federal_holiday
from scomm.domain.ids import derived_id
from scomm.domain.messages import (
    Actor,
    CourtDisposition,
    CriminalTenprintSubmission,
    DeliveryStatus,
    DispositionOutcome,
    IdentSearchRequest,
    ReleaseDue,
    message_from_payload,
)
from scomm.domain.records import Booking, Repository
from scomm.domain.switches import SwitchSetting
from scomm.nist.car import decode_tenprint
from scomm.services.callbacks import CallbacksOnResponse, record_task
from scomm.services.cjis import CriminalJusticeInformationServices
from scomm.services.context import ServiceContext
from scomm.services.eoir import ImmigrationCourt
from scomm.services.ero import FieldOffice
from scomm.services.errors import AlreadyReported, UnknownBooking
from scomm.services.fingerprints import tenprint_templates
from scomm.services.ident import ImmigrationRepository
from scomm.services.lea import Booked, BookingJail
from scomm.services.lesc import LawEnforcementSupportCenter
from scomm.services.sib import StateIdentificationBureau
from scomm.services.switches import set_switch
from scomm.store.db import Database
from scomm.store.models import OutboxRow
from scomm.store.templates import snapshot_folder

# The correlation engine the demo used before (`biometrics.baseline`), kept for comparison:
# fast and simple, blind to rotation and distortion.


def engine_context(
    settings: Settings,
    is_holiday: Callable[[date], bool],
    rules: RuleCatalogue,
    engine: Engine | None = None,
) -> ServiceContext:
    """The services' context around `engine`, by default the one `settings.engine` names (a
    shipped profile, or a profile file): loaded from its profile, nothing fitted; the
    actors apply `rules`.  Its extraction is memoised in the process (`biometrics.memo`):
    the criminal and immigration repositories extract a booking's images once."""
    engine = engine or build_engine(resolve_profile(settings.engine))
    return ServiceContext(
        settings=settings,
        extractor=MemoisedExtractor(engine.extractor, profile_digest(engine.profile)),
        codec=engine.codec,
        engine_name=engine.name,
        criminal_gallery=engine.new_gallery(),
        immigration_gallery=engine.new_gallery(),
        is_holiday=is_holiday,
        rules=rules,
        decoded_images=DecodedImageCache(),  # one per system: its actors share the decodes
    )


def baseline_context(settings: Settings, is_holiday: Callable[[date], bool]) -> ServiceContext:
    """The context of the correlation baseline engine, whatever `settings.engine` says, with
    the package's rule catalogue."""
    baseline = build_engine(load_profile(BASELINE_ENGINE))
    return engine_context(settings, is_holiday, RuleCatalogue.load(), baseline)


def actor_handlers(ctx: ServiceContext) -> tuple[BookingJail, dict[Actor, Handler]]:
    """The jail (which also books) and every actor's handler on `ctx`: the one place that
    says which service handles which actor's messages, for `System` and for any other bus
    that runs the flow (the simulator's in-memory one, `scomm.sim.fast_flow`)."""
    lea = BookingJail(ctx)
    handlers: dict[Actor, Handler] = {
        # the jail; a response to a task submitted over the service also queues the
        # submitting agency's callback (delivered by the handler `System.add_handler` adds)
        Actor.LEA: CallbacksOnResponse(lea),
        Actor.SIB: StateIdentificationBureau(ctx),
        Actor.CJIS: CriminalJusticeInformationServices(ctx),
        Actor.IDENT: ImmigrationRepository(ctx),
        Actor.LESC: LawEnforcementSupportCenter(ctx),
        Actor.ERO: FieldOffice(ctx),
        Actor.EOIR: ImmigrationCourt(ctx),
    }
    return lea, handlers


class System:
    """Everything scomm runs in one process: what `scomm demo` and the tests drive."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        fault: FaultHook | None = None,
        context: ServiceContext | None = None,
        load_galleries: bool = True,
    ) -> None:
        """`load_galleries`: False for a process that never searches (an acceptor of
        `scomm serve --acceptors N`): its galleries stay empty, and nothing is snapshotted."""
        self.settings = settings
        self.clock = clock
        # the engine first: an unknown or broken profile stops the start before the database
        self.ctx = context or engine_context(settings, us_federal_holiday(), RuleCatalogue.load())
        self.db = Database(settings.database_url)
        self.anchor: Anchor | None = None
        try:
            self.db.migrate()
            # signed checkpoints of the audit chain's head, when a key is configured: an
            # "open" one now, before this process appends anything (scomm.audit.checkpoints)
            self.anchor = Anchor.from_settings(settings, self.db)
            if self.anchor is not None:
                self.anchor.begin()
            self.snapshots = snapshot_folder(settings.database_url) if load_galleries else None
            if load_galleries:
                self._load_galleries()
        except BaseException:
            if self.anchor is not None:  # this writer stops before it appended anything
                with suppress(Exception):
                    self.anchor.close()
            self.db.dispose()  # a start that fails leaves no connection open
            raise
        self.lea, handlers = actor_handlers(self.ctx)
        self.dispatcher = Dispatcher(self.db, clock, handlers, fault=fault)

    def _load_galleries(self) -> None:
        with self.db.sessions() as session:
            for repository, gallery in self.galleries():
                # a snapshot only where the audit chain vouches for it; a rebuild is
                # snapshotted and recorded again (an alarm too, for a changed snapshot)
                load_gallery(
                    session, repository, gallery, self.ctx.codec, self.snapshots,
                    self.ctx.engine_name, self.clock.now(),
                )  # fmt: skip
                session.commit()

    def add_handler(self, actor: Actor, handler: Handler) -> None:
        """A handler the edge supplies: scomm.api's callback sender for Actor.CALLBACK
        (`scomm.api.callbacks.install`), which this layer may not import."""
        self.dispatcher.handlers = {**self.dispatcher.handlers, actor: handler}

    def galleries(self) -> tuple[tuple[Repository, Gallery], ...]:
        """Each repository with the gallery this process holds for it."""
        return (
            (Repository.CRIMINAL, self.ctx.criminal_gallery),
            (Repository.IMMIGRATION, self.ctx.immigration_gallery),
        )

    def save_galleries(self) -> None:
        """Snapshot both galleries beside the database (after a run), each with its audit
        entry, so that the next start loads them instead of rebuilding them from the
        template rows."""
        if self.snapshots is None:
            return
        with self.db.sessions() as session:
            for repository, gallery in self.galleries():
                save_snapshot(
                    session, repository, gallery, self.snapshots, self.ctx.engine_name,
                    self.clock.now(),
                )  # fmt: skip
                session.commit()

    def unit_of_work(self, cause: str = "") -> UnitOfWork:
        return UnitOfWork(self.db, self.clock, cause=cause)

    def book(
        self,
        booking: Booking,
        transaction: bytes,
        submitted_by: str | None = None,
        within: Callable[[UnitOfWork], None] | None = None,
        rendered: RenderedMessage | None = None,
    ) -> Booked:
        """Book into the flow; `submitted_by`: the agency that submitted it over the
        service, recorded with the booking (its callback gets the response). `within` runs
        first in the booking's own transaction (the service's audit entry of the
        submission): one commit for all of it, and an exception it raises books nothing.
        `rendered`: the booking's CAR as `rendered_car` made it beforehand."""
        with self.unit_of_work() as uow:
            if rendered is not None:
                uow.rendered_ahead(rendered)
            if within is not None:
                within(uow)
            booked = self.lea.book(uow, booking, transaction)
            if submitted_by is not None:
                record_task(uow, booked.case_id, booked.tcn, submitted_by)
            uow.commit()
        self.checkpoint_due()
        return booked

    def rendered_car(self, booking: Booking, transaction: bytes) -> RenderedMessage:
        """The CAR that `book` sends the SIB for this booking, rendered for its outbox row
        and audit entry (about 1.4 ms for a 250 kB CAR, no database): the service renders
        it before it takes the write lock and gives it to `book`."""
        return self.lea.rendered_car(booking, transaction)

    def record_disposition(
        self, tcn: str, outcome: DispositionOutcome, decided_at: datetime
    ) -> None:
        """The court's disposition of a booking's charges reaches its jail at `decided_at`."""
        case_id = derived_id("case", tcn)
        with self.unit_of_work(cause=f"disposition|{tcn}") as uow:
            if not uow.bookings.tcn_used(tcn):
                raise UnknownBooking(f"no booking with TCN {tcn!r}")
            message_id = _first_of_its_cause(uow, "a court disposition", tcn)
            uow.emit(
                CourtDisposition(
                    message_id=message_id,
                    case_id=case_id,
                    tcn=tcn,
                    sender=Actor.COURT,
                    recipient=Actor.LEA,
                    outcome=outcome,
                    decided_at=decided_at,
                ),
                at=max(decided_at, uow.now),
            )
            uow.commit()
        self.checkpoint_due()

    def report_release(self, tcn: str) -> None:
        """The jail says the person of a booking would be released now (bail posted, charges
        dropped, sentence served): the jail's own release timer (ReleaseDue), due now, which
        the jail handles as the booking's timer: released, or held on an honoured detainer.
        The booking's later timer then finds the person gone and does nothing."""
        with self.unit_of_work(cause=f"release|{tcn}") as uow:
            if not uow.bookings.tcn_used(tcn):
                raise UnknownBooking(f"no booking with TCN {tcn!r}")
            message_id = _first_of_its_cause(uow, "a release", tcn)
            uow.emit(
                ReleaseDue(
                    message_id=message_id,
                    case_id=derived_id("case", tcn),
                    tcn=tcn,
                    sender=Actor.LEA,
                    recipient=Actor.LEA,
                ),
                at=uow.now,
            )
            uow.commit()
        self.checkpoint_due()

    def set_switch(self, setting: SwitchSetting) -> None:
        """The only way a switch changes: checked against its owner, and audited
        (`scomm.services.switches.set_switch`, which `scomm switches set` uses too)."""
        with self.unit_of_work() as uow:
            set_switch(uow, setting)
            uow.commit()
        self.checkpoint_due()

    def run_until(self, moment: datetime | None = None) -> int:
        """Deliver messages in time order up to `moment` (all of them when None), moving a
        scenario clock forward to each message's time."""
        handled = 0
        while True:
            due = self.dispatcher.next_due()
            if due is None or (moment is not None and due > moment):
                break
            if isinstance(self.clock, ScenarioClock):
                self.clock.advance_to(due)
            elif due > self.clock.now():
                break
            delivered = self.dispatcher.run_due()
            handled += delivered
            self.checkpoint_due()
            if not delivered and not isinstance(self.clock, ScenarioClock):
                break  # what is due, other workers hold (PostgreSQL): look again later
        if moment is not None and isinstance(self.clock, ScenarioClock):
            self.clock.advance_to(moment)
        return handled

    def due_now(self, limit: int = 200) -> list[int]:
        """The outbox seqs whose time has come, in the order `Dispatcher.run_due` delivers
        them (at most `limit`): for a caller that delivers them one by one
        (`self.dispatcher.deliver`), e.g. each under a lock of its own."""
        with self.db.sessions() as session:
            return list(
                session.scalars(
                    select(OutboxRow.seq)
                    .where(
                        OutboxRow.status == DeliveryStatus.PENDING.value,
                        OutboxRow.available_at <= self.clock.now(),
                    )
                    .order_by(OutboxRow.available_at, OutboxRow.seq)
                    .limit(limit)
                )
            )

    def prepare(self, seq: int) -> None:
        """Do before delivering outbox row `seq` the engine's part of it, writing nothing:
        a booking transaction's decode (for the SIB, CJIS and IDENT) and, for a fingerprint
        search (CJIS's CAR, IDENT's search request), its extraction and the search itself,
        kept where the handler then finds them (`ctx.decoded_images`, the memoised
        extractor, the gallery's last answer, which an enrolment in between makes the
        handler search again). A caller that holds a write lock only around the delivery
        so keeps this work out of it; no other thread may change the gallery while it is
        searched (in `scomm serve` only the dispatcher's thread enrols). A failure here is
        left to the delivery, which meets it again."""
        with self.db.sessions() as session:
            row = session.get(OutboxRow, seq)
            if row is None or row.status != DeliveryStatus.PENDING.value:
                return
            kind, recipient, payload = row.type, row.recipient, row.payload
        try:
            message = message_from_payload(kind, json.loads(payload))
            if isinstance(message, CriminalTenprintSubmission | IdentSearchRequest):
                submission = decode_tenprint(message.transaction, self.ctx.decoded_images)
                galleries = {
                    Actor.CJIS.value: self.ctx.criminal_gallery,
                    Actor.IDENT.value: self.ctx.immigration_gallery,
                }
                if recipient in galleries:
                    templates = tenprint_templates(self.ctx, submission)
                    gallery = galleries[recipient]
                    if getattr(gallery, "keeps_last_answer", False):  # else searched twice
                        gallery.search(templates)
        except Exception:  # the delivery meets it again, and handles it
            return

    def checkpoint_due(self) -> None:
        """A signed checkpoint of the chain's head if `settings.checkpoint_every` entries
        were appended since the last (nothing without a signing key)."""
        if self.anchor is not None:
            self.anchor.tick()

    def close(self) -> None:
        """The end of this process's appends: a "closed" checkpoint of the head (with a
        signing key), then the database let go. If the checkpoint export hook failed during
        the run, `Anchor.close` ends it with one warning line on stderr listing each failed
        checkpoint (the run itself does not fail)."""
        try:
            if self.anchor is not None:
                self.anchor.close()
        finally:
            self.db.dispose()


def _first_of_its_cause(uow: UnitOfWork, what: str, tcn: str) -> str:
    """The id of the message `uow` emits first (ids are deterministic in the cause); raises
    AlreadyReported where an earlier report of the same cause has it already."""
    message_id = uow.new_message_id()
    if uow.session.scalar(select(OutboxRow.seq).where(OutboxRow.message_id == message_id)):
        raise AlreadyReported(f"{what} of the booking with TCN {tcn!r} is already recorded")
    return message_id
