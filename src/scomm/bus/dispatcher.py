"""The dispatcher: delivers outbox messages at least once; consumers deduplicate on message id."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select

from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.clock import Clock
from scomm.domain.messages import Actor, Message, message_from_payload
from scomm.store.db import Database
from scomm.store.models import OutboxRow

log = logging.getLogger(__name__)

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"


class Handler(Protocol):
    def handle(self, message: Message, uow: UnitOfWork) -> None: ...


class SimulatedCrash(BaseException):
    """Raised by a fault hook to stand for the process dying; nothing catches it."""


FaultHook = Callable[[str, OutboxRow], None]


class Dispatcher:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        handlers: Mapping[Actor, Handler],
        max_attempts: int = 5,
        backoff: timedelta = timedelta(minutes=1),
        fault: FaultHook | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.handlers = handlers
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.fault = fault

    def next_due(self) -> datetime | None:
        with self.db.sessions() as session:
            return session.scalar(
                select(func.min(OutboxRow.available_at)).where(OutboxRow.status == PENDING)
            )

    def run_due(self) -> int:
        """Deliver every pending message whose time has come; returns how many were handled."""
        handled = 0
        while True:
            with self.db.sessions() as session:
                rows = session.scalars(
                    select(OutboxRow)
                    .where(OutboxRow.status == PENDING, OutboxRow.available_at <= self.clock.now())
                    .order_by(OutboxRow.available_at, OutboxRow.seq)
                    .limit(200)
                ).all()
            if not rows:
                return handled
            for row in rows:
                self.deliver(row)
                handled += 1

    def deliver(self, row: OutboxRow) -> None:
        if self.fault:
            self.fault("before_handle", row)
        consumer = row.recipient
        try:
            message = message_from_payload(row.type, json.loads(row.payload))
            handler = self.handlers[Actor(consumer)]
            with UnitOfWork(self.db, self.clock, cause=row.message_id) as uow:
                if not uow.already_processed(consumer, row.message_id):
                    handler.handle(message, uow)
                    uow.mark_processed(consumer, row.message_id)
                    uow.commit()
        except Exception as error:  # a failing handler must not stop the others
            log.warning("delivery of %s %s failed: %s", row.type, row.message_id, error)
            self._retry_later(row.seq, error)
            return
        if self.fault:
            self.fault("after_handle", row)
        with self.db.sessions() as session, session.begin():
            stored = session.get(OutboxRow, row.seq)
            if stored is not None:
                stored.status = DELIVERED
                stored.delivered_at = self.clock.now()
                stored.attempts += 1

    def _retry_later(self, seq: int, error: Exception) -> None:
        with self.db.sessions() as session, session.begin():
            stored = session.get(OutboxRow, seq)
            if stored is None:
                return
            stored.attempts += 1
            stored.last_error = f"{type(error).__name__}: {error}"
            if stored.attempts >= self.max_attempts:
                stored.status = DEAD
            else:
                stored.available_at = self.clock.now() + self.backoff * 2 ** (stored.attempts - 1)
