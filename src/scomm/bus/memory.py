"""The unit of work and the bus in memory: a second implementation of the ports the handlers
use (`AbstractUnitOfWork`, a dispatcher's delivery), for runs too large for the database.

`MemoryStore` holds every actor's records in dicts, the audit entries in the order they were
recorded (`MemoryEntry`: kind, name, actor, case id, time, payload) and the outbox as a heap
delivered in (available_at, seq) order, as the database's dispatcher delivers its rows.
`MemoryUnitOfWork` is all-or-nothing like the database's: what a handler records, emits and
marks processed is kept aside until `commit`; the records it added or changed are put back
as they were by `rollback` (a failed handler leaves nothing behind). `MemoryDispatcher`
delivers due messages to the same handlers `scomm.system.actor_handlers` wires for the
database, retrying a failed delivery with the same backoff and ending it as a dead letter
after the same number of attempts, each audited as the database's dispatcher audits it.

What it does not keep: the audit chain's hashes, signed checkpoints, the outbox's binding to
its audit entries (nothing can be changed behind the flow's back in one process's memory),
and anything after the process ends. The simulator's large runs use it
(`scomm.sim.fast_flow`); the service and every database run keep using `UnitOfWork`.
"""

from __future__ import annotations

import heapq
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session

from scomm.audit import chain
from scomm.biometrics.protocols import Template
from scomm.bus.dispatcher import DEAD_LETTER, DELIVERY_RETRY, Handler
from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.domain.clock import Clock
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
from scomm.store.errors import RecordNotFound

log = logging.getLogger(__name__)

Undo = Callable[[], object]  # what it returns is dropped


@dataclass(frozen=True)
class MemoryEntry:
    """An audit entry as the chain would hold it (its payload as recorded, not as text)."""

    seq: int
    recorded_at: datetime
    kind: str
    name: str
    actor: str
    case_id: str
    payload: Any


@dataclass
class _Identities:
    subjects: dict[str, Subject] = field(default_factory=dict)
    encounters: dict[str, list[Encounter]] = field(default_factory=dict)
    templates: dict[tuple[str, int], bytes] = field(default_factory=dict)


@dataclass
class DeadLetter:
    """A message given up on after `attempts` failed deliveries."""

    seq: int
    message: Message
    attempts: int
    error: str


class MemoryStore:
    """Everything a run keeps, in this process's memory."""

    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}
        self.jurisdictions: dict[str, Jurisdiction] = {}
        self.switches: list[SwitchChange] = []
        self.switches_by_ori: dict[str, list[SwitchChange]] = {}
        self.bookings: dict[str, tuple[Booking, str]] = {}
        self.submissions: dict[str, CriminalSubmission] = {}
        self.detainers: dict[str, DetainerRecord] = {}
        self.detainers_by_case: dict[str, list[str]] = {}
        self.officer_decisions: dict[tuple[str, str | None], OfficerDecisionRecord] = {}
        self.benefits: dict[str, list[BenefitRecord]] = {}
        self.identities = {r: _Identities() for r in Repository}
        self.entries: list[MemoryEntry] = []
        self.processed: set[tuple[str, str]] = set()
        # (available_at, seq, message): the outbox still to deliver
        self.outbox: list[tuple[datetime, int, Message]] = []
        self.outbox_seq = 0
        self.attempts: dict[int, int] = {}  # outbox seq -> failed attempts so far
        self.dead_letters: list[DeadLetter] = []
        self.delivered = 0

    def next_due(self) -> datetime | None:
        return self.outbox[0][0] if self.outbox else None

    def audit_entries(self, kind: str | None = None) -> Iterator[MemoryEntry]:
        """The audit entries in the order they were recorded (of one kind, or all)."""
        return (e for e in self.entries if kind is None or e.kind == kind)


# -- the repositories, each writing to the store and noting how to undo it -----------------


class _Part:
    def __init__(self, store: MemoryStore, undo: list[Undo]) -> None:
        self._store = store
        self._undo = undo
        self._seen: set[int] = set()

    def _keep(self, record: Any) -> None:
        """Note `record`'s fields once in this unit of work, to put them back on rollback
        (the handlers change cases and detainers in place)."""
        if id(record) in self._seen:
            return
        self._seen.add(id(record))
        saved = dict(record.__dict__)
        self._undo.append(lambda: record.__dict__.update(saved))


class MemoryCases(_Part):
    def add(self, case: Case) -> None:
        cases = self._store.cases
        cases[case.case_id] = case
        self._undo.append(lambda: cases.pop(case.case_id, None))

    def get(self, case_id: str) -> Case | None:
        case = self._store.cases.get(case_id)
        if case is not None:
            self._keep(case)
        return case


class MemoryJurisdictions(_Part):
    def add(self, jurisdiction: Jurisdiction) -> None:
        self._put(jurisdiction.ori, jurisdiction)

    def get(self, ori: str) -> Jurisdiction | None:
        return self._store.jurisdictions.get(ori)

    def set_detainer_policy(self, ori: str, policy: DetainerPolicy) -> None:
        found = self._store.jurisdictions.get(ori)
        if found is None:
            raise RecordNotFound(f"no jurisdiction {ori!r}")
        self._put(ori, replace(found, detainer_policy=policy))

    def oris(self) -> list[str]:
        return sorted(self._store.jurisdictions)

    def _put(self, ori: str, jurisdiction: Jurisdiction) -> None:
        places = self._store.jurisdictions
        before = places.get(ori)
        places[ori] = jurisdiction
        self._undo.append(
            (lambda: places.pop(ori, None))
            if before is None
            else (lambda: places.update({ori: before}))
        )


class MemorySwitchSettings(_Part):
    """Settings are added with their audit entry in the same unit of work and nothing can
    change them behind the flow's back: every one is honoured, none refused."""

    def add(self, setting: SwitchSetting, recorded_at: datetime) -> int:
        store = self._store
        change = SwitchChange(len(store.switches) + 1, setting, recorded_at)
        store.switches.append(change)
        mine = store.switches_by_ori.setdefault(setting.ori, [])
        mine.append(change)

        def undo() -> None:
            store.switches.remove(change)
            mine.remove(change)

        self._undo.append(undo)
        return change.setting_id

    def attest(self, setting_id: int, audit_seq: int) -> None:
        if not 1 <= setting_id <= len(self._store.switches):
            raise RecordNotFound(f"no switch setting {setting_id}")

    def history(self, ori: str | None = None) -> list[SwitchChange]:
        if ori is None:
            return list(self._store.switches)
        return list(self._store.switches_by_ori.get(ori, ()))

    def refused(self, ori: str | None = None) -> list[RefusedSetting]:
        return []


class MemoryBookings(_Part):
    def add(self, booking: Booking, case_id: str) -> None:
        bookings = self._store.bookings
        bookings[booking.tcn] = (booking, case_id)
        self._undo.append(lambda: bookings.pop(booking.tcn, None))

    def tcn_used(self, tcn: str) -> bool:
        return tcn in self._store.bookings


class MemoryCriminalSubmissions(_Part):
    def add(self, submission: CriminalSubmission) -> None:
        found = self._store.submissions
        found[submission.tcn] = submission
        self._undo.append(lambda: found.pop(submission.tcn, None))

    def get(self, tcn: str) -> CriminalSubmission | None:
        return self._store.submissions.get(tcn)


class MemoryDetainers(_Part):
    def add(self, detainer: DetainerRecord) -> None:
        store = self._store
        store.detainers[detainer.detainer_id] = detainer
        mine = store.detainers_by_case.setdefault(detainer.case_id, [])
        mine.append(detainer.detainer_id)

        def undo() -> None:
            store.detainers.pop(detainer.detainer_id, None)
            mine.remove(detainer.detainer_id)

        self._undo.append(undo)

    def get(self, detainer_id: str) -> DetainerRecord | None:
        found = self._store.detainers.get(detainer_id)
        if found is not None:
            self._keep(found)
        return found

    def for_case(self, case_id: str) -> list[DetainerRecord]:
        store = self._store
        mine = [store.detainers[d] for d in store.detainers_by_case.get(case_id, ())]
        for detainer in mine:
            self._keep(detainer)
        return sorted(mine, key=lambda d: (d.lodged_at, d.detainer_id))


class MemoryOfficerDecisions(_Part):
    def add(self, decision: OfficerDecisionRecord) -> None:
        decisions = self._store.officer_decisions
        key = (decision.case_id, decision.decision_id)
        if key not in decisions:  # the first one recorded is the one `find` gives
            decisions[key] = decision
            self._undo.append(lambda: decisions.pop(key, None))

    def find(self, case_id: str, decision_id: str | None) -> OfficerDecisionRecord | None:
        return self._store.officer_decisions.get((case_id, decision_id))


class MemoryBenefits(_Part):
    def add(self, record: BenefitRecord) -> None:
        mine = self._store.benefits.setdefault(record.a_number, [])
        mine.append(record)
        self._undo.append(lambda: mine.remove(record))

    def for_a_number(self, a_number: str) -> list[BenefitRecord]:
        return sorted(self._store.benefits.get(a_number, ()), key=lambda b: b.granted_at)


class MemoryIdentities(_Part):
    def __init__(self, store: MemoryStore, undo: list[Undo], repository: Repository) -> None:
        super().__init__(store, undo)
        self.repository = repository
        self._mine = store.identities[repository]

    def enrol(self, subject: Subject, templates: Mapping[int, Template], engine: str) -> None:
        mine = self._mine
        mine.subjects[subject.identity_id] = subject
        keys = [(subject.identity_id, finger) for finger in templates]
        for (identity, finger), template in zip(keys, templates.values(), strict=True):
            mine.templates[identity, finger] = template.to_bytes()

        def undo() -> None:
            mine.subjects.pop(subject.identity_id, None)
            for key in keys:
                mine.templates.pop(key, None)

        self._undo.append(undo)

    def subject(self, identity_id: str) -> Subject | None:
        return self._mine.subjects.get(identity_id)

    def add_encounter(self, encounter: Encounter) -> None:
        mine = self._mine.encounters.setdefault(encounter.identity_id, [])
        mine.append(encounter)
        self._undo.append(lambda: mine.remove(encounter))

    def encounters(self, identity_id: str) -> list[Encounter]:
        # stable: recorded order within a moment, as the database orders by (at, id)
        return sorted(self._mine.encounters.get(identity_id, ()), key=lambda e: e.at)

    def template(self, identity_id: str, finger: int) -> bytes | None:
        return self._mine.templates.get((identity_id, finger))


# -- the unit of work ---------------------------------------------------------------------


class MemoryUnitOfWork(AbstractUnitOfWork):
    """One transaction on a `MemoryStore`: its audit entries, outgoing messages and delivery
    marks are kept aside until `commit`; `rollback` (or leaving the `with` block without a
    commit) puts back the records it changed."""

    def __init__(self, store: MemoryStore, clock: Clock, cause: str = "") -> None:
        super().__init__(clock, cause)
        self.store = store
        self._undo: list[Undo] = []
        self._entries: list[MemoryEntry] = []
        self._queued: list[tuple[datetime, Message]] = []
        self._processed: list[tuple[str, str]] = []
        self._now: datetime | None = None
        self._done = False
        self.cases = MemoryCases(store, self._undo)
        self.jurisdictions = MemoryJurisdictions(store, self._undo)
        self.switches = MemorySwitchSettings(store, self._undo)
        self.bookings = MemoryBookings(store, self._undo)
        self.submissions = MemoryCriminalSubmissions(store, self._undo)
        self.detainers = MemoryDetainers(store, self._undo)
        self.officer_decisions = MemoryOfficerDecisions(store, self._undo)
        self.benefits = MemoryBenefits(store, self._undo)
        self._identities: dict[Repository, MemoryIdentities] = {}

    @property
    def now(self) -> datetime:
        """The moment of this transaction, read from the clock once (as `UnitOfWork`)."""
        if self._now is None:
            self._now = self.clock.now()
        return self._now

    def __enter__(self) -> MemoryUnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._done:
            self.rollback()

    def identities(self, repository: Repository) -> MemoryIdentities:
        found = self._identities.get(repository)
        if found is None:
            found = self._identities[repository] = MemoryIdentities(
                self.store, self._undo, repository
            )
        return found

    def _queue(
        self, message: Message, text: str, available_at: datetime, audit_seq: int | None
    ) -> None:
        self._queued.append((available_at, message))

    def record(self, kind: str, name: str, actor: str, case_id: str, payload: Any) -> int:
        seq = len(self.store.entries) + len(self._entries) + 1
        self._entries.append(MemoryEntry(seq, self.now, kind, name, actor, case_id, payload))
        return seq

    def already_processed(self, consumer: str, message_id: str) -> bool:
        return (consumer, message_id) in self.store.processed

    def mark_processed(self, consumer: str, message_id: str) -> None:
        self._processed.append((consumer, message_id))

    def _commit(self) -> None:
        store = self.store
        store.entries.extend(self._entries)
        store.processed.update(self._processed)
        for available_at, message in self._queued:
            store.outbox_seq += 1
            heapq.heappush(store.outbox, (available_at, store.outbox_seq, message))
        self._entries, self._queued, self._processed = [], [], []
        self._undo.clear()
        self._done = True

    def rollback(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        self._entries, self._queued, self._processed = [], [], []
        self._after_commit.clear()
        self._done = True


# -- the bus ------------------------------------------------------------------------------


class MemoryDispatcher:
    """Delivers the store's due messages in (available_at, seq) order to `handlers`, each
    handled once per consumer; a delivery that fails is retried after `backoff`, then twice
    that, ..., and given up on after `max_attempts` (as `scomm.bus.dispatcher.Dispatcher`)."""

    def __init__(
        self,
        store: MemoryStore,
        clock: Clock,
        handlers: Mapping[Actor, Handler],
        max_attempts: int = 5,
        backoff: timedelta = timedelta(minutes=1),
    ) -> None:
        self.store = store
        self.clock = clock
        self.handlers = handlers
        self.max_attempts = max_attempts
        self.backoff = backoff

    def next_due(self) -> datetime | None:
        return self.store.next_due()

    def run_due(self) -> int:
        """Deliver every message whose time has come; returns how many were handled."""
        handled = 0
        outbox = self.store.outbox
        while outbox and outbox[0][0] <= self.clock.now():
            available_at, seq, message = heapq.heappop(outbox)
            self.deliver(seq, message)
            handled += 1
        return handled

    def deliver(self, seq: int, message: Message) -> None:
        consumer = message.recipient.value
        uow = MemoryUnitOfWork(self.store, self.clock, cause=message.message_id)
        try:
            handler = self.handlers[message.recipient]
            if not uow.already_processed(consumer, message.message_id):
                handler.handle(message, uow)
                uow.mark_processed(consumer, message.message_id)
            uow.commit()
        except Exception as error:  # a failing handler must not stop the others
            uow.rollback()
            log.warning("delivery of %s %s failed: %s", message.type, message.message_id, error)
            self._retry_later(seq, message, f"{type(error).__name__}: {error}")
            return
        self.store.delivered += 1

    def _retry_later(self, seq: int, message: Message, error: str) -> None:
        store = self.store
        attempts = store.attempts[seq] = store.attempts.get(seq, 0) + 1
        payload: dict[str, Any] = {
            "seq": seq,
            "message_id": message.message_id,
            "type": message.type,
            "attempts": attempts,
            "error": error,
        }
        if attempts >= self.max_attempts:
            store.dead_letters.append(DeadLetter(seq, message, attempts, error))
            self._record(DEAD_LETTER, message, payload)
            return
        available_at = self.clock.now() + self.backoff * 2 ** (attempts - 1)
        heapq.heappush(store.outbox, (available_at, seq, message))
        self._record(DELIVERY_RETRY, message, payload | {"available_at": available_at.isoformat()})

    def _record(self, name: str, message: Message, payload: dict[str, Any]) -> None:
        uow = MemoryUnitOfWork(self.store, self.clock)
        uow.record("delivery", name, message.recipient.value, message.case_id, payload)
        uow.commit()


def database_entries(session: Session, batch: int = 5000) -> Iterator[MemoryEntry]:
    """The database's audit entries in chain order, read as a memory run keeps them (the
    payload parsed): for the readers that take either (`scomm.reports.summary`,
    `scomm.sim.scenario_report`)."""
    for row in chain.entries(session, batch):
        yield MemoryEntry(
            row.seq,
            row.recorded_at,
            row.kind,
            row.name,
            row.actor,
            row.case_id,
            json.loads(row.payload),
        )
