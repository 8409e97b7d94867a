"""Callbacks of the service (OSIA's asynchrony): an agency's callback registered (by an
operator: the allowed hosts; by the agency or the operator: the URL), the tasks an agency
submits recorded, a callback queued in the outbox when a task's response reaches the jail,
a task's status read from its delivery, and a redelivery.

Every change of a registration is written to the audit chain (kind `agency`, never the
secret); a queued callback is a `message` entry like every outbox message, a delivery a
`callback` CALLBACK_DELIVERED entry (scomm.api.callbacks), and a failed attempt the
dispatcher's `delivery` entry (DELIVERY_RETRY, then DEAD_LETTER).

The HTTP delivery itself is no part of this layer: `scomm.api.callbacks` sends it, as the
dispatcher's handler for `Actor.CALLBACK`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from scomm.audit import chain
from scomm.bus.dead_letters import replay
from scomm.bus.unit_of_work import AbstractUnitOfWork, UnitOfWork
from scomm.domain.callbacks import (
    CallbackRefused,
    CallbackRegistration,
    TaskStatus,
    check_url,
    normal_host,
    task_status,
)
from scomm.domain.clock import Clock
from scomm.domain.messages import (
    Actor,
    CallbackDue,
    DeliveryStatus,
    Message,
    SubmissionResults,
    TransactionErrorResponse,
)
from scomm.services.errors import ServiceError
from scomm.services.lea import BookingJail
from scomm.store.db import Database
from scomm.store.repositories.agencies import SqlAgencies
from scomm.store.repositories.callbacks import SqlCallbacks

AGENCY_KIND = "agency"  # audit kind of a registration change (as of every agency change)
CALLBACK_KIND = "callback"  # audit kind of a callback delivered
OPERATOR = "OPERATOR"  # the actor of an operator's change on the command line
SERVICE = "API"  # the actor of an agency's own change over the service
CALLBACK_SET = "CALLBACK_SET"  # an operator set the allow-list (and perhaps the URL)
CALLBACK_URL_SET = "CALLBACK_URL_SET"  # an agency set its URL over the service
CALLBACK_DELIVERED = "CALLBACK_DELIVERED"
CALLBACK_REDELIVERY = "CALLBACK_REDELIVERY"


class CallbackChangeRefused(ServiceError, ValueError):
    """A registration that cannot be made: an unknown agency, or a URL the allow-list does
    not allow (the message says which)."""


class NothingToRedeliver(ServiceError):
    """A redelivery of a task with no response yet, no callback, or a delivery under way."""


@dataclass(frozen=True)
class CallbackSet:
    """A registration as it now is, and its signing secret if it was just made (shown
    once; empty when the secret was kept)."""

    registration: CallbackRegistration
    new_secret: str


def _described(registration: CallbackRegistration, new_secret: bool) -> dict[str, Any]:
    return {
        "client_id": registration.client_id,
        "url": registration.url,
        "allowed_hosts": list(registration.allowed_hosts),
        "private_hosts": list(registration.private_hosts),
        "secret": "new" if new_secret else "kept",
    }


def _record(session: Session, at: datetime, kind: str, name: str, actor: str, payload: Any) -> int:
    return chain.append(
        session, recorded_at=at, kind=kind, name=name, actor=actor, case_id="", payload=payload
    ).seq


def registration(db: Database, client_id: str) -> CallbackRegistration | None:
    with db.sessions() as session:
        return SqlCallbacks(session).get(client_id)


def set_callback(
    db: Database,
    now: datetime,
    client_id: str,
    *,
    hosts: tuple[str, ...],
    private_hosts: tuple[str, ...] = (),
    url: str | None = None,
    clear_url: bool = False,
    new_secret: bool = False,
) -> CallbackSet:
    """An operator sets an agency's callback allow-list (replacing the old one), the hosts
    of it that may resolve to private addresses, and perhaps its URL (checked against the
    new list; a URL kept from before must pass it too, else it is dropped). The first
    registration makes the signing secret; `new_secret` replaces it. Audited."""
    allowed = _hosts(hosts + private_hosts)
    private = _hosts(private_hosts)
    with db.sessions() as session:
        if SqlAgencies(session).get(client_id) is None:
            raise CallbackChangeRefused(f"no agency with client id {client_id!r}")
        repository = SqlCallbacks(session)
        old = repository.get(client_id, for_update=True)
        kept = None if clear_url or old is None else old.url
        chosen = url if url is not None else kept
        if chosen is not None:
            try:
                check_url(chosen, allowed)
            except CallbackRefused as error:
                if url is not None:
                    raise CallbackChangeRefused(error.message) from error
                chosen = None  # the old URL names a host no longer allowed
        made = old is None or new_secret
        changed = CallbackRegistration(
            client_id=client_id, url=chosen, allowed_hosts=allowed, private_hosts=private,
            secret=old.secret if old is not None and not made else secrets.token_urlsafe(32),
            updated_at=now,
        )  # fmt: skip
        repository.save(changed)
        _record(session, now, AGENCY_KIND, CALLBACK_SET, OPERATOR, _described(changed, made))
        session.commit()
    return CallbackSet(changed, changed.secret if made else "")


def set_own_url(
    db: Database, now: datetime, client_id: str, url: str | None, *, new_secret: bool = False
) -> CallbackSet:
    """An agency sets (or, with None, clears) its own callback URL, which must name a host
    an operator allowed it; `new_secret` gives it a new signing secret. Audited."""
    with db.sessions() as session:
        repository = SqlCallbacks(session)
        old = repository.get(client_id, for_update=True)
        if old is None or not old.allowed_hosts:
            raise CallbackChangeRefused(
                "no callback host is allowed for this agency: an operator allows them "
                "(scomm agencies callback)"
            )
        if url is not None:
            try:
                check_url(url, old.allowed_hosts)
            except CallbackRefused as error:
                raise CallbackChangeRefused(error.message) from error
        changed = replace(
            old, url=url, updated_at=now,
            secret=secrets.token_urlsafe(32) if new_secret else old.secret,
        )  # fmt: skip
        repository.save(changed)
        _record(
            session, now, AGENCY_KIND, CALLBACK_URL_SET, SERVICE, _described(changed, new_secret)
        )
        session.commit()
    return CallbackSet(changed, changed.secret if new_secret else "")


def _hosts(given: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return tuple(dict.fromkeys(normal_host(h) for h in given))
    except CallbackRefused as error:
        raise CallbackChangeRefused(error.message) from error


def record_task(uow: AbstractUnitOfWork, task_id: str, tcn: str, client_id: str) -> None:
    """Task `task_id` (TCN `tcn`) was submitted over the service by agency `client_id`: its
    response goes to that agency's callback. In the booking's own transaction."""
    if isinstance(uow, UnitOfWork):
        SqlCallbacks(uow.session).add_task(task_id, tcn, client_id, uow.now)


class CallbacksOnResponse:
    """The jail, and a callback queued (in the same transaction) when a response of a task
    submitted over the service reaches it, if the submitting agency has a callback URL."""

    def __init__(self, jail: BookingJail) -> None:
        self.jail = jail
        self.ctx = jail.ctx  # the jail's context, as every actor handler has one

    def handle(self, message: Message, uow: AbstractUnitOfWork) -> None:
        self.jail.handle(message, uow)
        if not isinstance(message, SubmissionResults | TransactionErrorResponse):
            return
        if not isinstance(uow, UnitOfWork):  # the handler tests' in-memory unit of work
            return
        repository = SqlCallbacks(uow.session)
        task = repository.task(message.case_id)
        if task is None:
            return
        client_id = task[1]
        registered = repository.get(client_id)
        if registered is None or registered.url is None:
            return
        uow.emit(
            _callback(uow.new_message_id(), message.case_id, message.tcn, client_id,
                      message.message_id)
        )  # fmt: skip


def _callback(
    message_id: str, task_id: str, tcn: str, client_id: str, response_id: str
) -> CallbackDue:
    return CallbackDue(
        message_id=message_id, case_id=task_id, tcn=tcn, sender=Actor.LEA,
        recipient=Actor.CALLBACK, client_id=client_id, response_id=response_id,
    )  # fmt: skip


@dataclass(frozen=True)
class TaskState:
    """Where a task stands: its status, and its latest callback delivery's attempts and
    next attempt (None without one pending)."""

    status: TaskStatus
    attempts: int
    next_attempt_at: datetime | None


def task_state(db: Database, task_id: str) -> TaskState:
    """The status of task `task_id` (a booking's case), as OSIA names it."""
    with db.sessions() as session:
        return _state(SqlCallbacks(session), task_id)


def _state(repository: SqlCallbacks, task_id: str) -> TaskState:
    row = repository.latest_delivery(task_id)
    has_response = repository.response_id(task_id) is not None
    if row is None:
        return TaskState(task_status(has_response, None), 0, None)
    status = task_status(has_response, (row.status, row.attempts, row.last_error))
    pending = row.status == DeliveryStatus.PENDING.value
    return TaskState(status, row.attempts, row.available_at if pending else None)


def redeliver(db: Database, clock: Clock, task_id: str, client_id: str) -> TaskState:
    """Queue the callback of task `task_id` again, at the request of agency `client_id`: a
    dead delivery is replayed, a delivered one queued anew. NothingToRedeliver when the task
    has no response yet, its submitter no callback URL, or a delivery is already due."""
    cause = f"redeliver|{task_id}"
    with UnitOfWork(db, clock, cause=cause) as uow:
        repository = SqlCallbacks(uow.session)
        response_id = repository.response_id(task_id)
        if response_id is None:
            raise NothingToRedeliver("the task has no response yet")
        task = repository.task(task_id)
        registered = repository.get(task[1]) if task is not None else None
        if task is None or registered is None or registered.url is None:
            raise NothingToRedeliver("no callback URL is registered for the task")
        tcn, submitter = task
        row = repository.latest_delivery(task_id)
        if row is not None and row.status == DeliveryStatus.PENDING.value:
            raise NothingToRedeliver("a callback delivery of the task is already due")
        dead = row is not None and row.status == DeliveryStatus.DEAD.value
        if row is not None and dead:
            replay(uow, str(row.seq), reason=f"redelivery requested by agency {client_id}")
        else:
            uow.cause = f"{cause}|{row.seq if row is not None else 0}"
            uow.emit(_callback(uow.new_message_id(), task_id, tcn, submitter, response_id))
        uow.record(
            CALLBACK_KIND, CALLBACK_REDELIVERY, SERVICE, task_id,
            {"client_id": client_id, "submitter": submitter, "replayed": dead},
        )  # fmt: skip
        uow.commit()
        uow.session.expire_all()
        return _state(repository, task_id)
