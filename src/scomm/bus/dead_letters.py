"""Dead letters: the messages the dispatcher gave up on, and their audited replay."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.bus.errors import BusError
from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.messages import DeliveryStatus
from scomm.store.models import OutboxRow

OPERATOR = "operator"  # the audit actor of commands typed by people, not sent by an actor


class NothingToReplay(BusError):
    """A replay named a message that is not a dead letter."""


def dead_letters(session: Session) -> list[OutboxRow]:
    """Messages the dispatcher gave up on, oldest first."""
    return list(
        session.scalars(
            select(OutboxRow)
            .where(OutboxRow.status == DeliveryStatus.DEAD.value)
            .order_by(OutboxRow.seq)
        )
    )


def replay(uow: UnitOfWork, ref: str | None, *, reason: str) -> list[OutboxRow]:
    """Put dead letters back for delivery (one by outbox seq or message id; all when `ref` is
    None), each with a fresh attempt count and an audit entry. Not committed."""
    query = (
        select(OutboxRow)
        .where(OutboxRow.status == DeliveryStatus.DEAD.value)
        .order_by(OutboxRow.seq)
    )
    if ref is not None:
        key = OutboxRow.seq == int(ref) if ref.isdigit() else OutboxRow.message_id == ref
        query = query.where(key)
    rows = list(uow.session.scalars(query))
    if ref is not None and not rows:
        raise NothingToReplay(f"no dead letter with seq or message id {ref!r}")
    for row in rows:
        uow.record(
            "operation",
            "DEAD_LETTER_REPLAYED",
            OPERATOR,
            row.case_id,
            {
                "seq": row.seq,
                "message_id": row.message_id,
                "type": row.type,
                "recipient": row.recipient,
                "attempts": row.attempts,
                "last_error": row.last_error,
                "reason": reason,
            },
        )
        # available_at stays: the message is due at once, and a scenario clock (which
        # never moves back) delivers it at its own time without jumping ahead.
        row.status = DeliveryStatus.PENDING.value
        row.attempts = 0
    return rows
