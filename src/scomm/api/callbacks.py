"""Callbacks and tasks over the service (OSIA's asynchrony): an agency's callback URL, the
status of a task and its redelivery, and the sender that POSTs a task's response to the
callback URL as the dispatcher's handler for `Actor.CALLBACK` (`install`).

A callback is the JSON that `GET /v1/transactions/{tcn}` answers (`application/json`; an
ERRT as `application/error+json`, as OSIA sends errors), with the headers

    X-Scomm-Timestamp: <seconds since the epoch>
    X-Scomm-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret>
    X-Scomm-Delivery:  <the delivery's id: the same on a retry, so a receiver deduplicates>
    X-Scomm-Task:      <the task id>

A 2xx answer is a delivery; anything else (or no answer in `TIMEOUT` seconds) is retried by
the dispatcher with its backoff, and after its last attempt the task is RESPONSE_ERROR until
a redelivery. No redirect is followed. Server-side request forgery: the URL's host must be
on the agency's allow-list, it is resolved at each delivery, and every address it resolves
to must be public unless an operator allowed that exact host private addresses; the
connection goes to the address that was checked."""

from __future__ import annotations

import calendar
import http.client
import json
import socket
import ssl
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy import select

from scomm.api.common import Caller, Service, audit_access, need, service_of
from scomm.api.errors import ApiError, Problem
from scomm.api.tokens import Principal
from scomm.api.transactions import response_of, task_id, visible_booking
from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.domain.agencies import CALLBACK_WRITE, TASK_READ, TASK_WRITE
from scomm.domain.callbacks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TASK_HEADER,
    TIMESTAMP_HEADER,
    CallbackRefused,
    CallbackRegistration,
    Target,
    TaskStatus,
    address_refused,
    check_url,
    signature,
)
from scomm.domain.messages import Actor, CallbackDue, Message, TransactionErrorResponse
from scomm.services import callbacks
from scomm.services.callbacks import (
    CALLBACK_DELIVERED,
    CALLBACK_KIND,
    CallbackChangeRefused,
    NothingToRedeliver,
    TaskState,
)
from scomm.store.models import BookingRow, CaseRow
from scomm.system import System

TIMEOUT = 5.0  # seconds a callback receiver has to answer (the dispatcher waits for it)
JSON = "application/json"
ERROR_JSON = "application/error+json"  # OSIA's media type of an error result
NO_TASK = "no task with this id"
CALLBACK_PATH = "/v1/agencies/me/callback"

# (host, port) -> the addresses it resolves to; socket.getaddrinfo's answer, reduced
Resolver = Callable[[str, int], list[str]]


class CallbackFailed(ApiError):
    """A callback that was not delivered: refused (its URL or address), unreachable, or
    answered with a status other than 2xx. The dispatcher retries it."""


class CallbackBody(BaseModel):
    """The agency's callback URL (null: none), on a host an operator allowed it;
    `rotate_secret`: a new signing secret, answered once."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2048)
    rotate_secret: StrictBool = False


def resolve(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to `address` (checked), naming `host` in the request."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to `address` (checked), the certificate checked for `host`."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def checked_addresses(target: Target, private_allowed: bool, resolver: Resolver) -> list[str]:
    """The addresses `target`'s host resolves to now, each one allowed; CallbackFailed if
    it resolves to none or to one it may not reach."""
    try:
        addresses = resolver(target.host, target.port)
    except OSError as error:
        raise CallbackFailed(f"{target.host} does not resolve: {error}") from error
    if not addresses:
        raise CallbackFailed(f"{target.host} does not resolve")
    for address in addresses:
        reason = address_refused(address, private_allowed)
        if reason is not None:
            raise CallbackFailed(f"callback host {target.host} refused: {reason}")
    return addresses


def post(
    target: Target, addresses: list[str], body: bytes, headers: dict[str, str], timeout: float
) -> int:
    """POST `body` to `target` at the first of `addresses` that connects; its status."""
    last: OSError | None = None
    pinned = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    for address in addresses:
        connection = pinned(target.host, target.port, address, timeout)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read(65536)
            return answer.status
        except OSError as error:  # refused, timed out, TLS: the next address, then a retry
            last = error
        finally:
            connection.close()
    raise CallbackFailed(f"callback to {target.host} failed: {type(last).__name__}: {last}")


def transaction_json(
    tcn: str, task_id: str, status: TaskStatus, response: Any | None
) -> dict[str, Any]:
    """The JSON of a transaction as `GET /v1/transactions/{tcn}` answers it."""
    body: dict[str, Any] = {
        "tcn": tcn,
        "task_id": task_id,
        "status": status.value,
        "links": {"self": f"/v1/transactions/{tcn}"},
    }
    if response is not None:
        body["response"] = {"type": response.type, **response.fields}
        body["links"]["response"] = f"/v1/transactions/{tcn}/response"
    return body


class CallbackSender:
    """The dispatcher's handler for Actor.CALLBACK: POSTs a task's response, signed, to the
    submitting agency's callback URL; raises CallbackFailed (the dispatcher retries) unless
    the receiver answers 2xx. Runs inside the delivery's transaction: the CALLBACK_DELIVERED
    audit entry and the delivery mark commit together."""

    def __init__(
        self, system: System, timeout: float = TIMEOUT, resolver: Resolver = resolve
    ) -> None:
        self.system = system
        self.timeout = timeout
        self.resolver = resolver
        # message id -> the outcome of a POST made ahead of the delivery's transaction
        # (`send_ahead`: outside the process's write lock), which `handle` then records
        self.sent_ahead: dict[str, tuple[str, int] | CallbackFailed] = {}

    def send_ahead(self, message: Message) -> None:
        """POST `message`'s callback now, before the delivery that records it (and outside
        any write lock: a slow receiver holds up no request); `handle` takes the outcome."""
        if not isinstance(message, CallbackDue):
            return
        registered = callbacks.registration(self.system.db, message.client_id)
        if registered is None or registered.url is None:
            return
        try:
            self.sent_ahead[message.message_id] = self._post(
                registered, message, self.system.clock.now()
            )
        except CallbackFailed as error:
            self.sent_ahead[message.message_id] = error

    def handle(self, message: Message, uow: AbstractUnitOfWork) -> None:
        if not isinstance(message, CallbackDue):
            raise ValueError(f"the callback sender does not handle {message.type}")
        ahead = self.sent_ahead.pop(message.message_id, None)
        registered = callbacks.registration(self.system.db, message.client_id)
        if ahead is None and (registered is None or registered.url is None):
            uow.record(
                CALLBACK_KIND, "CALLBACK_DROPPED", Actor.CALLBACK.value, message.case_id,
                {"client_id": message.client_id, "message_id": message.message_id,
                 "reason": "no callback URL is registered"},
            )  # fmt: skip
            return
        if isinstance(ahead, CallbackFailed):
            raise ahead
        if ahead is not None:
            host, status = ahead
        else:
            assert registered is not None
            host, status = self._post(registered, message, uow.now)
        uow.record(
            CALLBACK_KIND, CALLBACK_DELIVERED, Actor.CALLBACK.value, message.case_id,
            {"client_id": message.client_id, "message_id": message.message_id,
             "host": host, "status": status},
        )  # fmt: skip

    def _post(
        self, registered: CallbackRegistration, message: CallbackDue, now: Any
    ) -> tuple[str, int]:
        media, body = self.body(message)
        timestamp = calendar.timegm(now.timetuple())
        return self.send(registered, body, {
            "Content-Type": media,
            "User-Agent": "scomm-callback/1",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(registered.secret, timestamp, body),
            DELIVERY_HEADER: message.message_id,
            TASK_HEADER: message.case_id,
        })  # fmt: skip

    def body(self, message: CallbackDue) -> tuple[str, bytes]:
        """The callback's media type and body: the transaction's JSON, COMPLETED."""
        with self.system.db.sessions() as session:
            booking = session.scalar(select(BookingRow).where(BookingRow.tcn == message.tcn))
            if booking is not None:
                session.expunge(booking)
        if booking is None:
            raise CallbackFailed(f"no booking with TCN {message.tcn}")
        response = response_of(self.system, booking)
        if response is None:
            raise CallbackFailed(f"the response of {message.tcn} is not there")
        body = transaction_json(message.tcn, message.case_id, TaskStatus.COMPLETED, response)
        errt = response.type == TransactionErrorResponse.TYPE
        return (ERROR_JSON if errt else JSON), json.dumps(body).encode()

    def send(
        self, registered: CallbackRegistration, body: bytes, headers: dict[str, str]
    ) -> tuple[str, int]:
        """POST to the registered URL, checked again now; its host and the 2xx status it
        answered."""
        url = registered.url or ""
        try:
            target = check_url(url, registered.allowed_hosts)
        except CallbackRefused as error:
            raise CallbackFailed(f"callback URL refused: {error.message}") from error
        private = target.host in registered.private_hosts
        addresses = checked_addresses(target, private, self.resolver)
        status = post(target, addresses, body, headers, self.timeout)
        if not 200 <= status < 300:
            raise CallbackFailed(f"callback to {target.host} answered HTTP {status}")
        return target.host, status


def install(system: System, timeout: float = TIMEOUT) -> None:
    """Let `system`'s dispatcher deliver callbacks (every process that runs the dispatcher
    needs this; without it a callback ends as a dead letter, RESPONSE_ERROR). A sender
    installed already stays (what it sent ahead of its delivery is its own to record)."""
    if isinstance(system.dispatcher.handlers.get(Actor.CALLBACK), CallbackSender):
        return
    system.add_handler(Actor.CALLBACK, CallbackSender(system, timeout))


def _registration_json(registered: CallbackRegistration | None, secret: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "url": registered.url if registered else None,
        "allowed_hosts": list(registered.allowed_hosts) if registered else [],
        "signature": "HMAC-SHA256 over timestamp '.' body, header " + SIGNATURE_HEADER,
    }
    if secret:
        body["secret"] = secret  # shown once
    return body


def _task_json(task_id: str, tcn: str, state: TaskState) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "tcn": tcn,
        "status": state.status.value,
        "attempts": state.attempts,
        "next_attempt_at": state.next_attempt_at.isoformat() if state.next_attempt_at else None,
        "links": {
            "self": f"/v1/tasks/{task_id}",
            "transaction": f"/v1/transactions/{tcn}",
            "redeliver": f"/v1/tasks/{task_id}/redeliver",
        },
    }


def visible_task(system: System, principal: Principal, task_id: str) -> str | None:
    """The TCN of task `task_id` if the caller may see its booking; None otherwise, exactly
    as for an unknown task."""
    with system.db.sessions() as session:
        case = session.get(CaseRow, task_id)
        tcn = case.tcn if case is not None else None
    if tcn is None or visible_booking(system, principal, tcn) is None:
        return None
    return tcn


def add_callback_routes(app: FastAPI) -> None:
    """The callback and task routes (`create_app` installs the sender, `install`)."""

    @app.get(CALLBACK_PATH, tags=["callbacks"])
    def own_callback(request: Request, principal: Caller) -> JSONResponse:
        """The calling agency's callback: its URL and the hosts it may name."""
        need(principal, CALLBACK_WRITE)
        service = service_of(request)
        registered = callbacks.registration(service.system.db, principal.client_id)
        audit_access(service, principal, request, "READ_CALLBACK", "found")
        return JSONResponse(_registration_json(registered, ""))

    @app.put(CALLBACK_PATH, tags=["callbacks"])
    def set_own_callback(body: CallbackBody, request: Request, principal: Caller) -> JSONResponse:
        """Set (or, with a null url, clear) the calling agency's callback URL: http or
        https, no user information, on a host an operator allowed the agency (422
        otherwise). `rotate_secret` answers a new signing secret, once."""
        need(principal, CALLBACK_WRITE)
        service = service_of(request)
        try:
            made = _set_url(service, principal, body)
        except CallbackChangeRefused as error:
            audit_access(service, principal, request, "SET_CALLBACK", "refused")
            raise Problem(422, "callback refused", error.message) from error
        audit_access(service, principal, request, "SET_CALLBACK", "set")
        return JSONResponse(_registration_json(made.registration, made.new_secret))

    @app.get("/v1/tasks/{task_id}", tags=["tasks"])
    def task(task_id: str, request: Request, principal: Caller) -> JSONResponse:
        """A task's status: PENDING, RESPONSE_SCHEDULED, RESPONSE_RETRY, RESPONSE_ERROR or
        COMPLETED (OSIA), from its response and its callback's delivery."""
        need(principal, TASK_READ)
        service = service_of(request)
        tcn = visible_task(service.system, principal, task_id)
        outcome = "found" if tcn is not None else "not-found"
        audit_access(service, principal, request, "READ_TASK", outcome, task_id=task_id)
        if tcn is None:
            raise Problem(404, "not found", NO_TASK)
        state = callbacks.task_state(service.system.db, task_id)
        return JSONResponse(_task_json(task_id, tcn, state))

    @app.post("/v1/tasks/{task_id}/redeliver", status_code=202, tags=["tasks"])
    def redeliver(task_id: str, request: Request, principal: Caller) -> JSONResponse:
        """Queue a task's callback again (202); 409 when the task has no response yet, no
        callback URL, or a delivery is already due."""
        need(principal, TASK_WRITE)
        service = service_of(request)
        tcn = visible_task(service.system, principal, task_id)
        if tcn is None:
            audit_access(service, principal, request, "REDELIVER", "not-found", task_id=task_id)
            raise Problem(404, "not found", NO_TASK)
        try:
            with service.writer:
                state = callbacks.redeliver(
                    service.system.db, service.system.clock, task_id, principal.client_id
                )
        except NothingToRedeliver as error:
            audit_access(service, principal, request, "REDELIVER", "refused", task_id=task_id)
            raise Problem(409, "nothing to redeliver", error.message, task_id=task_id) from error
        audit_access(service, principal, request, "REDELIVER", "queued", task_id=task_id)
        return JSONResponse(_task_json(task_id, tcn, state), status_code=202)


def _set_url(service: Service, principal: Principal, body: CallbackBody) -> callbacks.CallbackSet:
    system = service.system
    with service.writer:
        return callbacks.set_own_url(
            system.db, system.clock.now(), principal.client_id, body.url,
            new_secret=body.rotate_secret,
        )  # fmt: skip


def task_status_of(system: System, tcn: str, response: object | None) -> TaskStatus:
    """The status `GET /v1/transactions/{tcn}` reports with the `response` it read (None:
    none yet): the task's, as `GET /v1/tasks/{id}` answers it."""
    if response is None:  # PENDING, whatever the dispatcher did since the response was read
        return TaskStatus.PENDING
    return callbacks.task_state(system.db, task_id(tcn)).status
