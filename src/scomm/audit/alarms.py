"""Alarms: audit entries of kind "alarm", recorded where scomm found its own state tampered
with (an outbox payload that differs from the audited one, ...), for operators to see
(`scomm ops alarms`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.audit import chain
from scomm.store.models import AuditEntryRow

ALARM = "alarm"  # the audit entries' kind


def record(
    session: Session,
    *,
    recorded_at: datetime,
    name: str,
    actor: str,
    case_id: str,
    details: dict[str, Any],
) -> AuditEntryRow:
    """Append an alarm in the caller's transaction."""
    return chain.append(
        session,
        recorded_at=recorded_at,
        kind=ALARM,
        name=name,
        actor=actor,
        case_id=case_id,
        payload=details,
    )


def alarms(session: Session) -> list[AuditEntryRow]:
    """Every alarm entry, oldest first."""
    return list(
        session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.kind == ALARM).order_by(AuditEntryRow.seq)
        )
    )
