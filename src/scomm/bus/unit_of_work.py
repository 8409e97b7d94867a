"""The unit of work: one transaction holding state changes, outgoing messages and audit entries.

Handlers see `AbstractUnitOfWork`: the actors' repositories (`uow.cases`, `uow.detainers`,
`uow.identities(Repository.CRIMINAL)`, ...), `emit` and `record`. `UnitOfWork` keeps them in
the database; the handler tests use an in-memory one (`tests/services/fakes.py`).
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session

from scomm.audit import chain
from scomm.audit.messages import PAYLOAD_SHA256 as PAYLOAD_SHA256  # re-exported
from scomm.audit.messages import audit_view as audit_view
from scomm.audit.messages import payload_digest as payload_digest
from scomm.domain.clock import Clock
from scomm.domain.messages import DeliveryStatus, Message
from scomm.domain.records import Repository
from scomm.store.db import Database
from scomm.store.models import OutboxRow, ProcessedMessageRow
from scomm.store.repositories import (
    Benefits,
    Bookings,
    Cases,
    CriminalSubmissions,
    Detainers,
    Identities,
    Jurisdictions,
    OfficerDecisions,
    SqlBenefits,
    SqlBookings,
    SqlCases,
    SqlCriminalSubmissions,
    SqlDetainers,
    SqlIdentities,
    SqlJurisdictions,
    SqlOfficerDecisions,
    SqlSwitchSettings,
    SwitchSettings,
)


def message_id_of(cause: str, number: int) -> str:
    """The id of the `number`th message (from 1) that a unit of work with cause `cause`
    emits: deterministic, so replaying a handler cannot mint a second message."""
    digest = hashlib.sha256(f"{cause}|{number}".encode()).hexdigest()[:24]
    return f"msg-{digest}"


@dataclass(frozen=True)
class RenderedMessage:
    """A message as its outbox row and its audit entry keep it: the payload text, the body
    the audit shows (a transaction as its digest) and the payload text's sha256. For a
    message that carries a transaction this is most of the work of `emit` (the base64 of
    the transaction, its JSON, two hashes: about 1.4 ms for a 250 kB CAR), which `render`
    lets a caller do before it takes the write lock (`AbstractUnitOfWork.rendered_ahead`)."""

    message: Message
    text: str
    body: dict[str, Any]
    digest: str


def render(message: Message) -> RenderedMessage:
    """`message` rendered for the outbox and the audit chain (pure: no database)."""
    payload = message.payload()
    text = json.dumps(payload)
    return RenderedMessage(message, text, audit_view(payload), payload_digest(text))


class AbstractUnitOfWork(ABC):
    """Everything an actor does for one message commits together or not at all."""

    # the shared records
    cases: Cases
    jurisdictions: Jurisdictions
    switches: SwitchSettings
    # each actor's own
    bookings: Bookings  # the jail
    submissions: CriminalSubmissions  # CJIS
    detainers: Detainers  # ICE lodges, the jail answers
    officer_decisions: OfficerDecisions  # ERO
    benefits: Benefits  # LESC's USCIS look-up

    def __init__(self, clock: Clock, cause: str = "") -> None:
        self.clock = clock
        self.cause = cause  # id of the message being handled: outgoing ids derive from it
        self._emitted = 0
        self._after_commit: list[Callable[[], None]] = []
        self._rendered_ahead: dict[str, RenderedMessage] = {}

    @abstractmethod
    def identities(self, repository: Repository) -> Identities:
        """The identities of the criminal (CJIS) or the immigration (IDENT) repository."""

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def new_message_id(self) -> str:
        """Deterministic in the cause, so replaying a handler cannot mint a second message."""
        self._emitted += 1
        return message_id_of(self.cause, self._emitted)

    def rendered_ahead(self, *rendered: RenderedMessage) -> None:
        """Messages this unit of work will emit, rendered by the caller beforehand (outside
        its write lock): `emit` takes the text of one that equals the message it emits, and
        renders any other itself, so a stale or wrong one costs time, never correctness."""
        for item in rendered:
            self._rendered_ahead[item.message.message_id] = item

    def emit(
        self, message: Message, delay: timedelta = timedelta(0), at: datetime | None = None
    ) -> None:
        """Queue a message in the outbox and log it in the audit chain, in this transaction.

        The audit entry keeps the sha256 of the exact outbox payload text, and the outbox
        row the entry's seq: the dispatcher refuses a payload that differs from it."""
        available_at = at if at is not None else self.now + delay
        rendered = self._rendered_ahead.pop(message.message_id, None)
        if rendered is None or rendered.message != message:
            rendered = render(message)
        audit_seq = self.record(
            "message",
            message.type,
            message.sender.value,
            message.case_id,
            {
                "message_id": message.message_id,
                "recipient": message.recipient.value,
                "tcn": message.tcn,
                "available_at": available_at.isoformat(),
                "body": rendered.body,
                PAYLOAD_SHA256: rendered.digest,
            },
        )
        self._queue(message, rendered.text, available_at, audit_seq)

    @abstractmethod
    def _queue(
        self, message: Message, text: str, available_at: datetime, audit_seq: int | None
    ) -> None:
        """Put `message` (its payload as `text`) in the outbox, due at `available_at`, bound
        to audit entry `audit_seq`."""

    @abstractmethod
    def record(self, kind: str, name: str, actor: str, case_id: str, payload: Any) -> int:
        """An audit entry: a decision, an outcome, a switch change; returns its seq."""

    @abstractmethod
    def already_processed(self, consumer: str, message_id: str) -> bool: ...

    @abstractmethod
    def mark_processed(self, consumer: str, message_id: str) -> None: ...

    def after_commit(self, action: Callable[[], None]) -> None:
        """In-memory effects (gallery updates) that must only happen once the state is durable."""
        self._after_commit.append(action)

    def commit(self) -> None:
        self._commit()
        for action in self._after_commit:
            action()
        self._after_commit.clear()

    @abstractmethod
    def _commit(self) -> None: ...


class UnitOfWork(AbstractUnitOfWork):
    """The unit of work on a database: one session, committed or rolled back as a whole.

    `session` is open for the bus and for loading a world; handlers use the repositories."""

    session: Session
    cases: SqlCases
    detainers: SqlDetainers

    def __init__(self, db: Database, clock: Clock, cause: str = "") -> None:
        super().__init__(clock, cause)
        self._db = db
        self._committed = False
        self._now: datetime | None = None

    @property
    def now(self) -> datetime:
        """The moment of this transaction, read from the clock once: the rows it writes and
        the audit entries that record them carry the same time (a wall clock would give
        each read its own microsecond, and the audit log could not rebuild the rows)."""
        if self._now is None:
            self._now = self.clock.now()
        return self._now

    def __enter__(self) -> UnitOfWork:
        self.session = self._db.sessions()
        self.cases = SqlCases(self.session)
        self.jurisdictions = SqlJurisdictions(self.session)
        self.switches = SqlSwitchSettings(self.session)
        self.bookings = SqlBookings(self.session)
        self.submissions = SqlCriminalSubmissions(self.session)
        self.detainers = SqlDetainers(self.session)
        self.officer_decisions = SqlOfficerDecisions(self.session)
        self.benefits = SqlBenefits(self.session)
        self._identities = {r: SqlIdentities(self.session, r) for r in Repository}
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            self.session.rollback()
        self.session.close()

    def identities(self, repository: Repository) -> SqlIdentities:
        return self._identities[repository]

    def _queue(
        self, message: Message, text: str, available_at: datetime, audit_seq: int | None
    ) -> None:
        self.session.add(
            OutboxRow(
                message_id=message.message_id,
                type=message.type,
                sender=message.sender.value,
                recipient=message.recipient.value,
                case_id=message.case_id,
                tcn=message.tcn,
                payload=text,
                created_at=self.now,
                available_at=available_at,
                attempts=0,
                status=DeliveryStatus.PENDING.value,
                audit_seq=audit_seq,
            )
        )

    def record(self, kind: str, name: str, actor: str, case_id: str, payload: Any) -> int:
        return chain.append(
            self.session,
            recorded_at=self.now,
            kind=kind,
            name=name,
            actor=actor,
            case_id=case_id,
            payload=payload,
        ).seq

    def already_processed(self, consumer: str, message_id: str) -> bool:
        return self.session.get(ProcessedMessageRow, (consumer, message_id)) is not None

    def mark_processed(self, consumer: str, message_id: str) -> None:
        self.session.add(
            ProcessedMessageRow(consumer=consumer, message_id=message_id, processed_at=self.now)
        )

    def _commit(self) -> None:
        self.cases.sync()
        self.detainers.sync()
        self.session.commit()
        self._committed = True
