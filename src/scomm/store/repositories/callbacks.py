"""Callbacks in SQL: each agency's registration, the tasks submitted over the service, and
the callback deliveries of a task (its CALLBACK outbox rows)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.domain.callbacks import CallbackRegistration
from scomm.domain.messages import (
    Actor,
    CallbackDue,
    DeliveryStatus,
    SubmissionResults,
    TransactionErrorResponse,
)
from scomm.store.models import AgencyCallbackRow, AgencyTaskRow, OutboxRow

RESPONSE_TYPES = (SubmissionResults.TYPE, TransactionErrorResponse.TYPE)


def _registration(row: AgencyCallbackRow) -> CallbackRegistration:
    return CallbackRegistration(
        client_id=row.client_id,
        url=row.url,
        allowed_hosts=tuple(row.allowed_hosts.split()),
        private_hosts=tuple(row.private_hosts.split()),
        secret=row.secret,
        updated_at=row.updated_at,
    )


class SqlCallbacks:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, client_id: str, *, for_update: bool = False) -> CallbackRegistration | None:
        row = self.session.get(AgencyCallbackRow, client_id, with_for_update=for_update)
        return None if row is None else _registration(row)

    def save(self, registration: CallbackRegistration) -> None:
        row = self.session.get(AgencyCallbackRow, registration.client_id)
        if row is None:
            row = AgencyCallbackRow(client_id=registration.client_id)
            self.session.add(row)
        row.url = registration.url
        row.allowed_hosts = " ".join(registration.allowed_hosts)
        row.private_hosts = " ".join(registration.private_hosts)
        row.secret = registration.secret
        row.updated_at = registration.updated_at
        self.session.flush()

    def add_task(self, task_id: str, tcn: str, client_id: str, at: datetime) -> None:
        self.session.add(
            AgencyTaskRow(task_id=task_id, tcn=tcn, client_id=client_id, submitted_at=at)
        )

    def task(self, task_id: str) -> tuple[str, str] | None:
        """The TCN of task `task_id` and the agency that submitted it over the service
        (None: it was not submitted over the service)."""
        row = self.session.get(AgencyTaskRow, task_id)
        return None if row is None else (row.tcn, row.client_id)

    def response_id(self, task_id: str) -> str | None:
        """The message id of the response (SRE or ERRT) the jail received for the task."""
        return self.session.scalars(
            select(OutboxRow.message_id)
            .where(
                OutboxRow.case_id == task_id,
                OutboxRow.recipient == Actor.LEA.value,
                OutboxRow.type.in_(RESPONSE_TYPES),
                OutboxRow.status == DeliveryStatus.DELIVERED.value,
            )
            .order_by(OutboxRow.seq)
        ).first()

    def latest_delivery(self, task_id: str) -> OutboxRow | None:
        """The task's latest callback delivery: its outbox row."""
        return self.session.scalars(
            select(OutboxRow)
            .where(OutboxRow.case_id == task_id, OutboxRow.type == CallbackDue.TYPE)
            .order_by(OutboxRow.seq.desc())
        ).first()
