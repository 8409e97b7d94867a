"""The dispatcher: delivers outbox messages at least once; consumers deduplicate on message id."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, defer

from scomm.audit import alarms, chain
from scomm.audit.messages import PAYLOAD_SHA256, payload_digest, same_body
from scomm.bus.unit_of_work import AbstractUnitOfWork, UnitOfWork
from scomm.domain.clock import Clock
from scomm.domain.messages import Actor, DeliveryStatus, Message, message_from_payload
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, OutboxRow

log = logging.getLogger(__name__)

PENDING = DeliveryStatus.PENDING.value
DELIVERED = DeliveryStatus.DELIVERED.value
DEAD = DeliveryStatus.DEAD.value
OUTBOX_TAMPERED = "OUTBOX_TAMPERED"  # the alarm of a row refused at delivery
DISPATCHER = "dispatcher"  # the alarm's actor
DEAD_LETTER = "DEAD_LETTER"  # the audit entry of a message given up on
DELIVERY_RETRY = "DELIVERY_RETRY"  # the audit entry of a failed delivery put off to later


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

    Several dispatchers may share one PostgreSQL database (`scomm worker` processes): the
    claim locks its row `FOR UPDATE SKIP LOCKED`, so a row another worker is claiming or
    handling is passed over, not waited for; and the handler's transaction first locks the
    row again and goes on only if it is still pending with the attempt count this claim
    wrote. Between the claim's commit and that lock another worker may have claimed the
    row (it then counted the next attempt): the first gives way, so one transaction only
    handles a message, and one that finds it delivered by another does nothing. On SQLite
    (one process) `FOR UPDATE` is not emitted and the checks find nothing to give way to.
    `should_stop`, when set, is asked before each delivery: `run_due` returns early once it
    says so (a worker told to stop ends the delivery it is in, no more).
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
        self.should_stop: Callable[[], bool] | None = None
        # called after each claim, before the handler's transaction: a worker catches up
        # on what other workers changed that it keeps in memory (`scomm.api.server`)
        self.before_handling: Callable[[], None] | None = None

    def next_due(self) -> datetime | None:
        with self.db.sessions() as session:
            return session.scalar(
                select(func.min(OutboxRow.available_at)).where(OutboxRow.status == PENDING)
            )

    def run_due(self) -> int:
        """Deliver every pending message whose time has come; returns how many were handled.

        A row passed over (another worker holds it) is not looked at again in this call:
        the next call finds it delivered or takes it up."""
        handled = 0
        passed_over: set[int] = set()
        while True:
            # Only the keys: a row's payload (a whole transaction) is read when it is delivered.
            with self.db.sessions() as session:
                listed = session.scalars(
                    select(OutboxRow.seq)
                    .where(OutboxRow.status == PENDING, OutboxRow.available_at <= self.clock.now())
                    .order_by(OutboxRow.available_at, OutboxRow.seq)
                    .limit(200 + len(passed_over))
                ).all()
            due = [seq for seq in listed if seq not in passed_over]
            if not due:
                return handled
            for seq in due:
                if self.should_stop is not None and self.should_stop():
                    return handled
                if self.deliver(seq):
                    handled += 1
                else:
                    passed_over.add(seq)

    def deliver(self, seq: int) -> bool:
        """Deliver outbox row `seq` once; False when it was no longer pending or gave up."""
        row = self._claim(seq)
        if row is None:
            return False
        if self.fault:
            self.fault("before_handle", row)
        consumer = row.recipient
        try:
            if self.before_handling is not None:
                self.before_handling()
            message = message_from_payload(row.type, json.loads(row.payload))
            handler = self.handlers[Actor(consumer)]
            with UnitOfWork(self.db, self.clock, cause=row.message_id) as uow:
                # the first statement of the transaction, so that it waits holding nothing
                if not _still_ours(uow.session, seq, row.attempts):
                    return False  # delivered, or claimed again, by another worker
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
            self._retry_later(seq, row.attempts, f"{type(error).__name__}: {error}")
            return True
        if self.fault:
            self.fault("after_handle", row)
        return True

    def _claim(self, seq: int) -> OutboxRow | None:
        """Count an attempt at row `seq` before handling it; None if it is not to be handled."""
        with self.db.sessions() as session, session.begin():
            # a row another worker holds is passed over (PostgreSQL; SQLite has one writer)
            stored = session.scalar(
                select(OutboxRow)
                .where(OutboxRow.seq == seq)
                .options(defer(OutboxRow.payload))
                .with_for_update(skip_locked=True)
            )
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
            row = session.scalar(
                select(OutboxRow)
                .where(OutboxRow.seq == seq)
                .execution_options(populate_existing=True)
            )
            if row is None:
                return None
            tampered = check_binding(session, row)
            if tampered is not None:
                self._refuse(session, row, tampered)
                return None
            return row

    def _refuse(self, session: Session, row: OutboxRow, tampered: Tampered) -> None:
        """A row whose payload is not the audited one: a dead letter at once, and an alarm."""
        log.error(
            "refused %s %s: %s (expected sha256 %s, found %s)",
            row.type,
            row.message_id,
            tampered.reason,
            tampered.expected,
            tampered.found,
        )
        self._give_up(session, row, tampered.reason)
        alarms.record(
            session,
            recorded_at=self.clock.now(),
            name=OUTBOX_TAMPERED,
            actor=DISPATCHER,
            case_id=row.case_id,
            details={
                "seq": row.seq,
                "message_id": row.message_id,
                "type": row.type,
                "audit_seq": row.audit_seq,
                "expected": tampered.expected,
                "found": tampered.found,
                "problem": tampered.reason,
            },
        )

    def _retry_later(self, seq: int, attempts: int, error: str) -> None:
        """Put off row `seq`, whose attempt number `attempts` failed with `error` (unless
        another worker has delivered or claimed it since)."""
        with self.db.sessions() as session, session.begin():
            stored = session.get(OutboxRow, seq, with_for_update=True)
            if stored is None or stored.status != PENDING or stored.attempts != attempts:
                return
            stored.last_error = error
            if stored.attempts >= self.max_attempts:
                self._give_up(session, stored, error)
            else:
                stored.available_at = self.clock.now() + self.backoff * 2 ** (stored.attempts - 1)
                # audited, so that `scomm audit reconcile` can tell this move from a row
                # pushed into the future to suppress it
                self._record_delivery(
                    session,
                    stored,
                    DELIVERY_RETRY,
                    error,
                    available_at=stored.available_at.isoformat(),
                )

    def _give_up(self, session: Session, stored: OutboxRow, error: str) -> None:
        """Make `stored` a dead letter, with an audit entry, in the caller's transaction."""
        stored.status = DEAD
        stored.last_error = error
        self._record_delivery(session, stored, DEAD_LETTER, error)

    def _record_delivery(
        self, session: Session, stored: OutboxRow, name: str, error: str, **extra: str
    ) -> None:
        """A `delivery` audit entry about outbox row `stored`, in the caller's transaction."""
        chain.append(
            session,
            recorded_at=self.clock.now(),
            kind="delivery",
            name=name,
            actor=stored.recipient,
            case_id=stored.case_id,
            payload={
                "seq": stored.seq,
                "message_id": stored.message_id,
                "type": stored.type,
                "attempts": stored.attempts,
                "error": error,
                **extra,
            },
        )


def _still_ours(session: Session, seq: int, attempts: int) -> bool:
    """Lock row `seq` in the handler's transaction (PostgreSQL: until it commits; a worker
    that claimed it meanwhile and locked it first is waited for) and tell whether it is
    still pending with the `attempts` that this worker's claim counted."""
    found = session.execute(
        select(OutboxRow.status, OutboxRow.attempts).where(OutboxRow.seq == seq).with_for_update()
    ).one_or_none()
    return found is not None and tuple(found) == (PENDING, attempts)


@dataclass(frozen=True)
class Tampered:
    """Why an outbox row is not the message its audit entry records."""

    reason: str  # "outbox 1234: payload differs from audit entry 567"
    expected: str | None  # the payload's sha256 as the audit entry records it
    found: str  # the sha256 of the payload in the outbox


def check_binding(session: Session, row: OutboxRow) -> Tampered | None:
    """Compare outbox `row` with the audit entry it is bound to (read from the audit log,
    not from the outbox): the message entry of the same message, whose recorded sha256 is
    that of the payload about to be delivered. None when they agree."""
    found = payload_digest(row.payload)
    where = f"outbox {row.seq}"
    if row.audit_seq is None:
        return Tampered(f"{where}: no audit entry is bound to it", None, found)
    entry = session.get(AuditEntryRow, row.audit_seq)
    if entry is None:
        return Tampered(f"{where}: audit entry {row.audit_seq} is missing", None, found)
    recorded = _json_object(entry.payload)
    digest = recorded.get(PAYLOAD_SHA256)
    expected = digest if isinstance(digest, str) else None
    same_message = (
        (entry.kind, entry.name, entry.actor, entry.case_id)
        == ("message", row.type, row.sender, row.case_id)
        and recorded.get("message_id") == row.message_id
        and recorded.get("recipient") == row.recipient
    )
    if not same_message:
        return Tampered(
            f"{where}: audit entry {entry.seq} is not the message entry of {row.message_id}",
            expected,
            found,
        )
    agrees = (
        expected == found
        if expected is not None
        else "body" in recorded and same_body(recorded["body"], row.payload)
    )
    if not agrees:
        return Tampered(f"{where}: payload differs from audit entry {entry.seq}", expected, found)
    return None


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
