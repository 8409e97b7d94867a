"""The unit of work: one transaction holding state changes, outgoing messages and audit entries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session

from scomm.audit import chain
from scomm.domain.clock import Clock
from scomm.domain.messages import Message
from scomm.store.db import Database
from scomm.store.models import OutboxRow, ProcessedMessageRow


class UnitOfWork:
    """Everything an actor does for one message commits together or not at all."""

    def __init__(self, db: Database, clock: Clock, cause: str = "") -> None:
        self._db = db
        self.clock = clock
        self.cause = cause  # id of the message being handled: outgoing ids derive from it
        self._emitted = 0
        self._after_commit: list[Callable[[], None]] = []
        self._committed = False
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._db.sessions()
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

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def new_message_id(self) -> str:
        """Deterministic in the cause, so replaying a handler cannot mint a second message."""
        self._emitted += 1
        digest = hashlib.sha256(f"{self.cause}|{self._emitted}".encode()).hexdigest()[:24]
        return f"msg-{digest}"

    def emit(
        self, message: Message, delay: timedelta = timedelta(0), at: datetime | None = None
    ) -> None:
        """Queue a message in the outbox and log it in the audit chain, in this transaction."""
        available_at = at if at is not None else self.now + delay
        payload = message.payload()
        self.session.add(
            OutboxRow(
                message_id=message.message_id,
                type=message.type,
                sender=message.sender.value,
                recipient=message.recipient.value,
                case_id=message.case_id,
                tcn=message.tcn,
                payload=json.dumps(payload),
                created_at=self.now,
                available_at=available_at,
                attempts=0,
                status="pending",
            )
        )
        self.record(
            "message",
            message.type,
            message.sender.value,
            message.case_id,
            {
                "message_id": message.message_id,
                "recipient": message.recipient.value,
                "tcn": message.tcn,
                "available_at": available_at.isoformat(),
                "body": audit_view(payload),
            },
        )

    def record(self, kind: str, name: str, actor: str, case_id: str, payload: Any) -> None:
        """An audit entry: a decision, an outcome, a switch change."""
        chain.append(
            self.session,
            recorded_at=self.now,
            kind=kind,
            name=name,
            actor=actor,
            case_id=case_id,
            payload=payload,
        )

    def already_processed(self, consumer: str, message_id: str) -> bool:
        return self.session.get(ProcessedMessageRow, (consumer, message_id)) is not None

    def mark_processed(self, consumer: str, message_id: str) -> None:
        self.session.add(
            ProcessedMessageRow(consumer=consumer, message_id=message_id, processed_at=self.now)
        )

    def after_commit(self, action: Callable[[], None]) -> None:
        """In-memory effects (gallery updates) that must only happen once the state is durable."""
        self._after_commit.append(action)

    def commit(self) -> None:
        self.session.commit()
        self._committed = True
        for action in self._after_commit:
            action()
        self._after_commit.clear()


def audit_view(payload: dict[str, Any]) -> dict[str, Any]:
    """The message body as the audit keeps it: a whole transaction becomes its digest."""
    view = dict(payload)
    if isinstance(view.get("transaction"), str):
        raw = view["transaction"].encode()
        view["transaction"] = {"sha256_b64": hashlib.sha256(raw).hexdigest(), "length": len(raw)}
    return view
