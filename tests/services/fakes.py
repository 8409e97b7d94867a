"""In-memory stand-ins for the handler tests: repositories, a unit of work, a stub engine,
and a little bus that runs messages between actors in time order, all without a database.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np

from scomm.biometrics.protocols import Candidate, CandidateList, FailureToEnrol, Template
from scomm.bus.dispatcher import Handler
from scomm.bus.unit_of_work import AbstractUnitOfWork, audit_view
from scomm.config import Settings
from scomm.domain.case import CaseState, CustodyState
from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.clock import ScenarioClock
from scomm.domain.immigration import BenefitRecord
from scomm.domain.messages import Actor, Message
from scomm.domain.policies import DetainerPolicy
from scomm.domain.records import (
    Booking,
    Case,
    CriminalSubmission,
    DetainerRecord,
    Encounter,
    Jurisdiction,
    OfficerDecisionRecord,
    Repository,
    Subject,
)
from scomm.domain.switches import RefusedSetting, SwitchChange, SwitchSetting
from scomm.nist.car import encode_tenprint
from scomm.nist.tenprint import ArrestCharge, FingerImage, TenprintSubmission
from scomm.services.context import ServiceContext

ORI = "CA0010000"
SIB_ORI = "CA0000000"
RULES = RuleCatalogue.load()  # read-only: one catalogue for every test context

# -- repositories ------------------------------------------------------------------------


class FakeCases:
    def __init__(self) -> None:
        self.by_id: dict[str, Case] = {}

    def add(self, case: Case) -> None:
        self.by_id[case.case_id] = case

    def get(self, case_id: str) -> Case | None:
        return self.by_id.get(case_id)


class FakeJurisdictions:
    def __init__(self) -> None:
        self.by_ori: dict[str, Jurisdiction] = {}

    def add(self, jurisdiction: Jurisdiction) -> None:
        self.by_ori[jurisdiction.ori] = jurisdiction

    def get(self, ori: str) -> Jurisdiction | None:
        return self.by_ori.get(ori)

    def set_detainer_policy(self, ori: str, policy: DetainerPolicy) -> None:
        self.by_ori[ori] = dataclasses.replace(self.by_ori[ori], detainer_policy=policy)

    def oris(self) -> list[str]:
        return sorted(self.by_ori)


class FakeSwitchSettings:
    def __init__(self) -> None:
        self.changes: list[SwitchChange] = []
        self.attested: dict[int, int] = {}  # setting id -> the seq of its audit entry

    def add(self, setting: SwitchSetting, recorded_at: datetime) -> int:
        self.changes.append(SwitchChange(len(self.changes) + 1, setting, recorded_at))
        return len(self.changes)

    def attest(self, setting_id: int, audit_seq: int) -> None:
        self.attested[setting_id] = audit_seq

    def history(self, ori: str | None = None) -> list[SwitchChange]:
        """Every setting: in memory nobody writes around `set_switch` (the SQL repository
        checks each row against its audit entry; tests/services/test_switch_audit.py)."""
        return [c for c in self.changes if ori is None or c.setting.ori == ori]

    def refused(self, ori: str | None = None) -> list[RefusedSetting]:
        return []


class FakeBookings:
    def __init__(self) -> None:
        self.by_tcn: dict[str, tuple[Booking, str]] = {}

    def add(self, booking: Booking, case_id: str) -> None:
        self.by_tcn[booking.tcn] = (booking, case_id)

    def tcn_used(self, tcn: str) -> bool:
        return tcn in self.by_tcn


class FakeCriminalSubmissions:
    def __init__(self) -> None:
        self.by_tcn: dict[str, CriminalSubmission] = {}

    def add(self, submission: CriminalSubmission) -> None:
        self.by_tcn[submission.tcn] = submission

    def get(self, tcn: str) -> CriminalSubmission | None:
        return self.by_tcn.get(tcn)


class FakeIdentities:
    def __init__(self, repository: Repository) -> None:
        self.repository = repository
        self.subjects: dict[str, Subject] = {}
        self.encounter_log: list[Encounter] = []
        self.templates: dict[tuple[str, int], bytes] = {}

    def enrol(self, subject: Subject, templates: Mapping[int, Template], engine: str) -> None:
        self.subjects[subject.identity_id] = subject
        for finger, template in templates.items():
            self.templates[subject.identity_id, finger] = template.to_bytes()

    def subject(self, identity_id: str) -> Subject | None:
        return self.subjects.get(identity_id)

    def add_encounter(self, encounter: Encounter) -> None:
        self.encounter_log.append(encounter)

    def encounters(self, identity_id: str) -> list[Encounter]:
        mine = [e for e in self.encounter_log if e.identity_id == identity_id]
        return sorted(mine, key=lambda e: e.at)  # stable: recorded order within a moment

    def template(self, identity_id: str, finger: int) -> bytes | None:
        return self.templates.get((identity_id, finger))


class FakeDetainers:
    def __init__(self) -> None:
        self.by_id: dict[str, DetainerRecord] = {}

    def add(self, detainer: DetainerRecord) -> None:
        self.by_id[detainer.detainer_id] = detainer

    def get(self, detainer_id: str) -> DetainerRecord | None:
        return self.by_id.get(detainer_id)

    def for_case(self, case_id: str) -> list[DetainerRecord]:
        mine = [d for d in self.by_id.values() if d.case_id == case_id]
        return sorted(mine, key=lambda d: (d.lodged_at, d.detainer_id))


class FakeOfficerDecisions:
    def __init__(self) -> None:
        self.all: list[OfficerDecisionRecord] = []

    def add(self, decision: OfficerDecisionRecord) -> None:
        self.all.append(decision)

    def find(self, case_id: str, decision_id: str | None) -> OfficerDecisionRecord | None:
        return next(
            (d for d in self.all if (d.case_id, d.decision_id) == (case_id, decision_id)), None
        )


class FakeBenefits:
    def __init__(self) -> None:
        self.all: list[BenefitRecord] = []

    def add(self, record: BenefitRecord) -> None:
        self.all.append(record)

    def for_a_number(self, a_number: str) -> list[BenefitRecord]:
        return sorted((b for b in self.all if b.a_number == a_number), key=lambda b: b.granted_at)


# -- the unit of work --------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """A message put in the outbox, and when it is due."""

    message: Message
    available_at: datetime
    text: str = ""  # the payload text, as the outbox row would hold it


@dataclass(frozen=True)
class Entry:
    """An audit entry as the chain would hold it."""

    kind: str
    name: str
    actor: str
    case_id: str
    payload: Any


class FakeUnitOfWork(AbstractUnitOfWork):
    """Holds every record in memory. Changes are visible at once (there is no rollback:
    what a failed handler leaves behind is a whole-flow test's question); `commits` counts
    the commits."""

    def __init__(self, clock: ScenarioClock | None = None, cause: str = "test") -> None:
        super().__init__(clock or ScenarioClock(datetime(2011, 6, 1, 9)), cause)
        self.cases = FakeCases()
        self.jurisdictions = FakeJurisdictions()
        self.switches = FakeSwitchSettings()
        self.bookings = FakeBookings()
        self.submissions = FakeCriminalSubmissions()
        self.detainers = FakeDetainers()
        self.officer_decisions = FakeOfficerDecisions()
        self.benefits = FakeBenefits()
        self._identities = {r: FakeIdentities(r) for r in Repository}
        self.outbox: list[Sent] = []
        self.audit: list[Entry] = []
        self.processed: set[tuple[str, str]] = set()
        self.commits = 0

    def identities(self, repository: Repository) -> FakeIdentities:
        return self._identities[repository]

    def _queue(
        self, message: Message, text: str, available_at: datetime, audit_seq: int | None
    ) -> None:
        self.outbox.append(Sent(message, available_at, text))

    def record(self, kind: str, name: str, actor: str, case_id: str, payload: Any) -> int:
        self.audit.append(Entry(kind, name, actor, case_id, payload))
        return len(self.audit)

    def already_processed(self, consumer: str, message_id: str) -> bool:
        return (consumer, message_id) in self.processed

    def mark_processed(self, consumer: str, message_id: str) -> None:
        self.processed.add((consumer, message_id))

    def _commit(self) -> None:
        self.commits += 1

    def handling(self, cause: str) -> None:
        """Start on the next message, as a fresh unit of work would (its ids derive from it)."""
        self.cause = cause
        self._emitted = 0

    # -- what the tests ask --
    def sent(self, type_name: str | None = None) -> list[Message]:
        return [s.message for s in self.outbox if type_name in (None, s.message.type)]

    def sent_types(self) -> list[str]:
        return [s.message.type for s in self.outbox]

    def names(self, kind: str) -> list[str]:
        return [e.name for e in self.audit if e.kind == kind]

    def entries(self, kind: str, name: str) -> list[Entry]:
        return [e for e in self.audit if (e.kind, e.name) == (kind, name)]


def audit_body(message: Message) -> dict[str, Any]:
    return audit_view(message.payload())


# -- records the tests start from ----------------------------------------------------------


def jurisdiction(ori: str = ORI, policy: DetainerPolicy = DetainerPolicy.HONOR_ALL) -> Jurisdiction:
    return Jurisdiction(
        ori=ori,
        name="SYNTHETIC COUNTY SHERIFF",
        state="CA",
        sib_ori=SIB_ORI,
        detainer_policy=policy,
        activation_at=None,
    )


def case(
    uow: FakeUnitOfWork,
    case_id: str = "case-1",
    state: CaseState = CaseState.BOOKED,
    custody: CustodyState = CustodyState.IN_CUSTODY,
    **changes: Any,
) -> Case:
    made = Case(
        case_id=case_id,
        tcn=f"T-{case_id}",
        ori=ORI,
        state=state,
        custody=custody,
        opened_at=uow.now,
        updated_at=uow.now,
    )
    made = dataclasses.replace(made, **changes)
    uow.cases.add(made)
    return made


def message_fields(case_id: str = "case-1", **fields: Any) -> dict[str, Any]:
    """The fields every message has, for a message about `case_id`."""
    base: dict[str, Any] = {
        "message_id": f"in-{case_id}",
        "case_id": case_id,
        "tcn": f"T-{case_id}",
    }
    return base | fields


# -- a stub fingerprint engine -------------------------------------------------------------


@dataclass(frozen=True)
class StubTemplate:
    finger: int

    def to_bytes(self) -> bytes:
        return f"stub-{self.finger}".encode()


class StubExtractor:
    """A template per finger image; the positions in `fails` fail to enrol."""

    def __init__(self, fails: Iterable[int] = ()) -> None:
        self.fails = set(fails)

    def extract(self, image: np.ndarray, ppi: int, finger: int) -> Template:
        if finger in self.fails:
            raise FailureToEnrol(f"finger {finger}")
        return StubTemplate(finger)


class StubCodec:
    def decode(self, data: bytes, finger: int) -> Template:
        return StubTemplate(finger)


@dataclass
class StubGallery:
    """Answers every search with `best` (identity, fused score) against `threshold`, and
    remembers searches and enrolments."""

    best: tuple[str, float] | None = None
    threshold: float = 0.5
    searches: list[Mapping[int, Template]] = field(default_factory=list)
    enrolled: dict[str, Mapping[int, Template]] = field(default_factory=dict)

    def enrol(self, identity_id: str, templates: Mapping[int, Template]) -> None:
        self.enrolled[identity_id] = templates

    def delete(self, identity_id: str) -> None:
        self.enrolled.pop(identity_id, None)

    def search(self, probe: Mapping[int, Template], max_candidates: int = 10) -> CandidateList:
        self.searches.append(probe)
        if self.best is None:
            return CandidateList((), self.threshold, tuple(probe))
        identity, score = self.best
        scores = {f: score for f in probe}
        return CandidateList((Candidate(identity, score, scores, 1),), self.threshold, tuple(probe))

    def __len__(self) -> int:
        return len(self.enrolled)

    def __contains__(self, identity_id: object) -> bool:
        return identity_id in self.enrolled


def context(
    settings: Settings | None = None,
    criminal: StubGallery | None = None,
    immigration: StubGallery | None = None,
    extractor: StubExtractor | None = None,
) -> ServiceContext:
    return ServiceContext(
        settings=settings or Settings(seed=3),
        extractor=extractor or StubExtractor(),
        codec=StubCodec(),
        engine_name="stub-engine",
        # an empty gallery is falsy (it has a length): test for None
        criminal_gallery=StubGallery() if criminal is None else criminal,
        immigration_gallery=StubGallery() if immigration is None else immigration,
        is_holiday=lambda day: False,
        rules=RULES,
    )


def car_bytes(
    tcn: str = "T-case-1",
    ori: str = ORI,
    dai: str = SIB_ORI,
    charges: tuple[str, ...] = ("BURGLARY",),
    positions: tuple[int, ...] = (2, 7),
    retain: bool = True,
) -> bytes:
    """A small valid CAR: flat 16x16 images (the stub extractor does not look at them)."""
    booked = date(2011, 6, 1)
    submission = TenprintSubmission(
        tot="CAR",
        tcn=tcn,
        ori=ori,
        dai=dai,
        transaction_date=booked,
        priority=3,
        cri=ori,
        retain=retain,
        name="DOE,JANE",
        dob=date(1980, 1, 1),
        pob="MM",
        sex="F",
        race="U",
        height="510",
        weight="180",
        eye="BRO",
        hair="BLK",
        date_of_arrest=booked,
        charges=tuple(ArrestCharge(booked, literal) for literal in charges),
        fingers=tuple(FingerImage(p, np.full((16, 16), 128, np.uint8)) for p in positions),
    )
    return encode_tenprint(submission, compression="NONE")


# -- a bus between actors, in memory ---------------------------------------------------------


class FakeBus:
    """Delivers the outbox of a FakeUnitOfWork to the actors in time order, moving the clock,
    as the dispatcher does with the database (each message handled once)."""

    def __init__(self, uow: FakeUnitOfWork, handlers: Mapping[Actor, Handler]) -> None:
        self.uow = uow
        self.handlers = handlers
        self.delivered: set[int] = set()

    def send(self, message: Message, at: datetime | None = None) -> None:
        self.uow.emit(message, at=at)

    def run(self, until: datetime | None = None) -> list[Message]:
        """Deliver every due message (up to `until`); returns them in delivery order."""
        done: list[Message] = []
        clock = self.uow.clock
        assert isinstance(clock, ScenarioClock)
        while True:
            waiting = [i for i in range(len(self.uow.outbox)) if i not in self.delivered]
            if not waiting:
                break
            index = min(waiting, key=lambda i: (self.uow.outbox[i].available_at, i))
            due = self.uow.outbox[index]
            if until is not None and due.available_at > until:
                break
            self.delivered.add(index)
            clock.advance_to(max(due.available_at, clock.now()))
            self.uow.handling(due.message.message_id)
            handler = self.handlers.get(due.message.recipient)
            if handler is not None:
                handler.handle(due.message, self.uow)
            done.append(due.message)
        return done
