"""The dispatcher: delivers outbox messages at least once; consumers deduplicate on message id."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, defer

from scomm.audit import chain
from scomm.bus.unit_of_work import AbstractUnitOfWork, UnitOfWork
from scomm.domain.clock import Clock
from scomm.domain.messages import Actor, DeliveryStatus, Message, message_from_payload
from scomm.store.db import Database
from scomm.store.models import OutboxRow

log = logging.getLogger(__name__)

PENDING = DeliveryStatus.PENDING.value
DELIVERED = DeliveryStatus.DELIVERED.value
DEAD = DeliveryStatus.DEAD.value


class Handler(Protocol):
    def handle(self, message: Message, uow: AbstractUnitOfWork) -> None: ...


class SimulatedCrash(BaseException):
    """Raised by a fault hook to stand for the process dying; nothing catches it."""


# A fault hook is called at points of a delivery ("before_handle", "before_commit" inside
# the handler's transaction, "after_handle" once it committed). Tests raise SimulatedCrash
# from it; the crash runner uses it to report progress.
FaultHook = Callable[[str, OutboxRow], None]


class Dispatcher:
    """Delivers due outbox rows in time order, each at least once.

    One delivery is two transactions. The first *claims* the row: it counts the attempt
    before the handler runs, so a message that kills the process every time it is handled
    (a poison message) still ends as a dead letter after `max_attempts`. The second is the
    handler's unit of work, which also records the message id as processed by its consumer
    and marks the row delivered: the effects, the messages they emit and the delivery mark
    commit together or not at all. A redelivered message id (a replay, a second worker) is
    recognised and has no second effect. A handler that raises is retried after an
    exponential backoff (`backoff`, then twice that, ...) and ends as a dead letter
    (`status = 'dead'`, with its last error), which `scomm ops replay` can put back
    (`scomm.bus.dead_letters`).
    """

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
            # Only the keys: a row's payload (a whole transaction) is read when it is delivered.
            with self.db.sessions() as session:
                due = session.scalars(
                    select(OutboxRow.seq)
                    .where(OutboxRow.status == PENDING, OutboxRow.available_at <= self.clock.now())
                    .order_by(OutboxRow.available_at, OutboxRow.seq)
                    .limit(200)
                ).all()
            if not due:
                return handled
            for seq in due:
                if self.deliver(seq):
                    handled += 1

    def deliver(self, seq: int) -> bool:
        """Deliver outbox row `seq` once; False when it was no longer pending or gave up."""
        row = self._claim(seq)
        if row is None:
            return False
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
                uow.session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.seq == seq)
                    .values(status=DELIVERED, delivered_at=uow.now)
                )
                if self.fault:
                    self.fault("before_commit", row)
                uow.commit()
        except Exception as error:  # a failing handler must not stop the others
            log.warning("delivery of %s %s failed: %s", row.type, row.message_id, error)
            self._retry_later(seq, f"{type(error).__name__}: {error}")
            return True
        if self.fault:
            self.fault("after_handle", row)
        return True

    def _claim(self, seq: int) -> OutboxRow | None:
        """Count an attempt at row `seq` before handling it; None if it is not to be handled."""
        with self.db.sessions() as session, session.begin():
            stored = session.get(OutboxRow, seq, options=[defer(OutboxRow.payload)])
            if stored is None or stored.status != PENDING:
                return None
            if stored.attempts >= self.max_attempts:
                # Every earlier attempt was claimed and none ended: the process died in them.
                self._give_up(
                    session,
                    stored,
                    f"abandoned: {stored.attempts} attempts ended without a result "
                    "(the process died while handling it)",
                )
                return None
            stored.attempts += 1
            session.flush()
            # The payload (a whole transaction, perhaps) is read only for a delivery.
            return session.scalar(
                select(OutboxRow)
                .where(OutboxRow.seq == seq)
                .execution_options(populate_existing=True)
            )

    def _retry_later(self, seq: int, error: str) -> None:
        with self.db.sessions() as session, session.begin():
            stored = session.get(OutboxRow, seq)
            if stored is None or stored.status != PENDING:
                return
            stored.last_error = error
            if stored.attempts >= self.max_attempts:
                self._give_up(session, stored, error)
            else:
                stored.available_at = self.clock.now() + self.backoff * 2 ** (stored.attempts - 1)

    def _give_up(self, session: Session, stored: OutboxRow, error: str) -> None:
        """Make `stored` a dead letter, with an audit entry, in the caller's transaction."""
        stored.status = DEAD
        stored.last_error = error
        chain.append(
            session,
            recorded_at=self.clock.now(),
            kind="delivery",
            name="DEAD_LETTER",
            actor=stored.recipient,
            case_id=stored.case_id,
            payload={
                "seq": stored.seq,
                "message_id": stored.message_id,
                "type": stored.type,
                "attempts": stored.attempts,
                "error": error,
            },
        )
