"""A small real flow on a database, in about a second: the actors' own handlers, the
dispatcher and the unit of work on SQL, only the fingerprint matcher stubbed (every probe
misses the criminal repository and hits one IDENT identity). Three bookings in one county
activated for IDENT (switch B, set through `set_switch`); ICE asks for a detainer on every
removable match, the jail holds, ICE picks one person up, and a dismissal withdraws the
detainer of another. What `test_reconcile.py` rebuilds from the audit log and tampers with.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scomm.biometrics.protocols import Candidate, CandidateList, Template
from scomm.bus.dispatcher import Dispatcher, Handler
from scomm.bus.unit_of_work import UnitOfWork
from scomm.config import Settings
from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.clock import ScenarioClock
from scomm.domain.ids import derived_id
from scomm.domain.immigration import RecordedStatus
from scomm.domain.messages import Actor, CourtDisposition, DispositionOutcome
from scomm.domain.policies import DetainerPolicy, SimulatedOfficerPolicy
from scomm.domain.records import Booking, Charge, Jurisdiction, Repository, Subject
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting
from scomm.nist.car import encode_tenprint
from scomm.nist.tenprint import ArrestCharge, FingerImage, TenprintSubmission
from scomm.services.cjis import CriminalJusticeInformationServices
from scomm.services.context import ServiceContext
from scomm.services.ero import FieldOffice
from scomm.services.ident import ImmigrationRepository
from scomm.services.lea import BookingJail
from scomm.services.lesc import LawEnforcementSupportCenter
from scomm.services.sib import StateIdentificationBureau
from scomm.services.switches import set_switch
from scomm.store.db import Database

ORI = "CA0010000"
SIB_ORI = "CA0000000"
START = datetime(2011, 6, 1, 9)
IDENT_ID = "IDENT-000001"
DETAIN_ALL = SimulatedOfficerPolicy(
    name="test-detain-all", detain_levels=(1, 2, 3), level3_detain_rate=1.0
)


@dataclass(frozen=True)
class StubTemplate:
    finger: int

    def to_bytes(self) -> bytes:
        return f"stub-{self.finger}".encode()


class StubExtractor:
    def extract(self, image: np.ndarray, ppi: int, finger: int) -> Template:
        return StubTemplate(finger)


class StubCodec:
    def decode(self, data: bytes, finger: int) -> Template:
        return StubTemplate(finger)


@dataclass
class StubGallery:
    """Answers every search with `best` (or nobody)."""

    best: str | None = None
    enrolled: dict[str, Mapping[int, Template]] = field(default_factory=dict)

    def enrol(self, identity_id: str, templates: Mapping[int, Template]) -> None:
        self.enrolled[identity_id] = templates

    def delete(self, identity_id: str) -> None:
        self.enrolled.pop(identity_id, None)

    def search(self, probe: Mapping[int, Template], max_candidates: int = 10) -> CandidateList:
        if self.best is None:
            return CandidateList((), 0.5, tuple(probe))
        scores = {f: 0.9 for f in probe}
        return CandidateList((Candidate(self.best, 0.9, scores, 1),), 0.5, tuple(probe))

    def __len__(self) -> int:
        return len(self.enrolled)

    def __contains__(self, identity_id: object) -> bool:
        return identity_id in self.enrolled


def car(tcn: str, booked: date, name: str) -> bytes:
    submission = TenprintSubmission(
        tot="CAR",
        tcn=tcn,
        ori=ORI,
        dai=SIB_ORI,
        transaction_date=booked,
        priority=3,
        cri=ORI,
        retain=True,
        name=name,
        dob=date(1980, 1, 1),
        pob="MM",
        sex="F",
        race="U",
        height="510",
        weight="180",
        eye="BRO",
        hair="BLK",
        date_of_arrest=booked,
        charges=(ArrestCharge(booked, "BURGLARY"),),
        fingers=tuple(FingerImage(p, np.full((16, 16), 128, np.uint8)) for p in (2, 7)),
    )
    return encode_tenprint(submission, compression="NONE")


def run_small_flow(url: str) -> None:
    """Migrate the database at `url` and run the flow on it to the end."""
    db = Database(url)
    db.migrate()
    clock = ScenarioClock(START - timedelta(days=2))
    ctx = ServiceContext(
        settings=Settings(database_url=url, seed=3, officer_policy=DETAIN_ALL),
        extractor=StubExtractor(),
        codec=StubCodec(),
        engine_name="stub-engine",
        criminal_gallery=StubGallery(),
        immigration_gallery=StubGallery(best=IDENT_ID),
        is_holiday=lambda day: False,
        rules=RuleCatalogue.load(),
    )
    jail = BookingJail(ctx)
    handlers: dict[Actor, Handler] = {
        Actor.LEA: jail,
        Actor.SIB: StateIdentificationBureau(ctx),
        Actor.CJIS: CriminalJusticeInformationServices(ctx),
        Actor.IDENT: ImmigrationRepository(ctx),
        Actor.LESC: LawEnforcementSupportCenter(ctx),
        Actor.ERO: FieldOffice(ctx),
    }
    dispatcher = Dispatcher(db, clock, handlers)
    try:
        with UnitOfWork(db, clock) as uow:
            uow.jurisdictions.add(
                Jurisdiction(
                    ORI, "ALDER COUNTY SHERIFF", "CA", SIB_ORI, DetainerPolicy.HONOR_ALL, None
                )
            )
            uow.identities(Repository.IMMIGRATION).enrol(
                Subject(
                    repository=Repository.IMMIGRATION,
                    identity_id=IDENT_ID,
                    name="DOE,JANE",
                    dob=date(1980, 1, 1),
                    sex="F",
                    pob="MM",
                    enrolled_at=START - timedelta(days=900),
                    a_number="A12345678",
                    recorded_status=RecordedStatus.PREVIOUSLY_REMOVED,
                ),
                {2: StubTemplate(2), 7: StubTemplate(7)},
                "stub-engine",
            )
            for switch, owner in (
                (Switch.B_FORWARD_TO_IDENT, SwitchOwner.FEDERAL),
                (Switch.C_RESULTS_TO_JAIL, SwitchOwner.JURISDICTION),
            ):
                set_switch(
                    uow,
                    SwitchSetting(ORI, switch, True, START - timedelta(days=1), owner, "test"),
                )
            uow.commit()
        for n, name in enumerate(("DOE,JANE", "ROE,RITA", "POE,PAT")):
            tcn = f"T-{n}"
            booked = START + timedelta(hours=n)
            booking = Booking(
                booking_id=f"B-{n}",
                tcn=tcn,
                ori=ORI,
                booked_at=booked,
                release_due_at=booked + timedelta(days=3),
                name=name,
                dob=date(1980, 1, 1),
                sex="F",
                pob="MM",
                charges=(Charge("BURGLARY", booked.date()),),
            )
            run(dispatcher, clock, booked)
            with UnitOfWork(db, clock) as uow:
                jail.book(uow, booking, car(tcn, booked.date(), name))
                uow.commit()
        dismissed = START + timedelta(days=1)
        run(dispatcher, clock, dismissed)
        with UnitOfWork(db, clock, cause="disposition|T-1") as uow:
            uow.emit(
                CourtDisposition(
                    message_id=uow.new_message_id(),
                    case_id=derived_id("case", "T-1"),
                    tcn="T-1",
                    sender=Actor.COURT,
                    recipient=Actor.LEA,
                    outcome=DispositionOutcome.DISMISSED,
                    decided_at=dismissed,
                ),
                at=dismissed,
            )
            uow.commit()
        run(dispatcher, clock, None)
        if db.engine.dialect.name == "sqlite":  # one file to copy: the log folded in
            with db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.dispose()


def run(dispatcher: Dispatcher, clock: ScenarioClock, until: datetime | None) -> None:
    """Deliver every message due up to `until` (all when None), moving the clock."""
    while True:
        due = dispatcher.next_due()
        if due is None or (until is not None and due > until):
            break
        clock.advance_to(due)
        dispatcher.run_due()
    if until is not None:
        clock.advance_to(until)


_templates: set[str] = set()


@contextmanager
def small_flow_on_postgresql(server_url: str) -> Iterator[str]:
    """The URL of a fresh PostgreSQL database holding the small flow, dropped afterwards:
    the flow runs once per process into a template database, each caller gets a copy
    (`CREATE DATABASE ... TEMPLATE`), which is much cheaper than running it again."""
    base = make_url(server_url)
    template = f"{base.database}_small_flow"
    copy = f"{template}_copy"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        if template not in _templates:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{template}"'))
                connection.execute(text(f'CREATE DATABASE "{template}"'))
            run_small_flow(base.set(database=template).render_as_string(hide_password=False))
            _templates.add(template)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"'))
        yield base.set(database=copy).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)'))
    finally:
        admin.dispose()
