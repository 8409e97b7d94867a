"""The FastAPI app: OAuth2 client credentials, then the jails' transactions under /v1.

Every /v1 route but the token endpoint needs a bearer token (the `caller` dependency) and
the scope its handler names; every error is `application/problem+json` (RFC 9457)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from scomm.api.audit import add_audit_routes
from scomm.api.callbacks import add_callback_routes, task_status_of
from scomm.api.callbacks import install as install_callbacks
from scomm.api.common import (
    ERROR_RESPONSES,
    Caller,
    Service,
    audit_access,
    need,
    problem_response,
    read_body,
    remote,
    service_of,
)
from scomm.api.errors import Problem
from scomm.api.ice import add_ice_routes
from scomm.api.jail import add_jail_routes
from scomm.api.public import add_public_routes
from scomm.api.switches import (
    NO_JURISDICTION,
    SwitchChangeBody,
    party,
    switch_state,
    visible_jurisdiction,
)
from scomm.api.tokens import TOKEN_SECONDS, Principal
from scomm.api.transactions import (
    NOT_FOUND,
    booking_from_car,
    response_of,
    task_id,
    visible_booking,
)
from scomm.api.transactions import Response as FlowResponse
from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.agencies import (
    SWITCH_READ,
    SWITCH_WRITE,
    TASK_READ,
    TRANSACTION_READ,
    TRANSACTION_WRITE,
    Agency,
)
from scomm.domain.switches import Switch, SwitchOwner, SwitchPermissionError, SwitchSetting
from scomm.nist.wire import MAX_TRANSACTION_BYTES
from scomm.services import agencies, switches
from scomm.services.agencies import AuthenticationFailed
from scomm.services.lea import BookingRefused, TcnAlreadyUsed
from scomm.store.models import BookingRow

NIST_MEDIA = "application/x-ansi-nist"
CAR_MEDIA = (NIST_MEDIA, "application/octet-stream")  # what POST /v1/transactions takes
MAX_BODY = MAX_TRANSACTION_BYTES  # 64 MiB: a larger body is refused before it is read
MAX_FORM = 8 * 1024  # a token request's form
TOKEN_PATH = "/v1/oauth/token"


def _client_credentials(request: Request, form: dict[str, list[str]]) -> tuple[str, str]:
    """client_id and client_secret from HTTP Basic (RFC 6749 2.3.1) or the form body."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            client_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
        except ValueError as error:  # binascii.Error, UnicodeDecodeError, a non-ASCII str
            raise Problem(400, "bad request", "malformed Basic credentials",
                          error="invalid_request") from error  # fmt: skip
        return client_id, secret
    return (form.get("client_id") or [""])[0], (form.get("client_secret") or [""])[0]


def add_routes(router: FastAPI) -> None:
    """The /v1 routes, on the app itself (so that `app.routes` lists each of them)."""

    @router.post(
        TOKEN_PATH,
        tags=["auth"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["grant_type"],
                            "properties": {
                                "grant_type": {"type": "string", "enum": ["client_credentials"]},
                                "client_id": {"type": "string"},
                                "client_secret": {"type": "string", "format": "password"},
                            },
                        }
                    }
                },
            }
        },
    )
    async def token(request: Request) -> JSONResponse:
        """OAuth2 client credentials (form body: grant_type=client_credentials, client_id,
        client_secret; or HTTP Basic): a bearer token for 15 minutes. Every attempt is
        audited; 5 failures in 15 minutes lock the client until an operator releases it."""
        raw = await read_body(request, MAX_FORM)
        try:
            # unknown parameters are ignored (RFC 6749 3.2); MAX_FORM bounds how many come
            form = parse_qs(raw.decode(), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError) as error:
            raise Problem(400, "bad request", "a form body is expected",
                          error="invalid_request") from error  # fmt: skip
        if form.get("grant_type") != ["client_credentials"]:
            raise Problem(400, "unsupported grant type", "grant_type=client_credentials",
                          error="unsupported_grant_type")  # fmt: skip
        client_id, secret = _client_credentials(request, form)
        service = service_of(request)
        try:
            agency = await run_in_threadpool(
                _authenticate, service, client_id, secret, remote(request)
            )
        except AuthenticationFailed as error:
            raise Problem(401, "invalid client", "client authentication failed",
                          {"WWW-Authenticate": 'Basic realm="scomm"'},
                          error="invalid_client") from error  # fmt: skip
        return JSONResponse(
            {
                "access_token": service.keys.issue(agency, service.now()),
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
                "scope": " ".join(agency.scopes),
            },
            headers={"Cache-Control": "no-store"},
        )

    @router.post(
        "/v1/transactions",
        status_code=202,
        tags=["transactions"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    media: {"schema": {"type": "string", "format": "binary"}} for media in CAR_MEDIA
                },
            }
        },
    )
    async def submit(request: Request, principal: Caller) -> JSONResponse:
        """A jail's CAR (ANSI/NIST-ITL bytes, at most 64 MiB): booked into the flow;
        answers 202 with the TCN and the task. Its 1.008 ORI and 2.073 CRI must be the
        token's ORI; a CAR that cannot be read answers 422 naming the ERRT field."""
        need(principal, TRANSACTION_WRITE)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in CAR_MEDIA:
            raise Problem(415, "unsupported media type", f"send {NIST_MEDIA}")
        raw = await read_body(request, MAX_BODY)
        service = service_of(request)
        return await run_in_threadpool(_book, service, principal, raw, remote(request))

    @router.get("/v1/transactions/{tcn}", tags=["transactions"])
    def status(tcn: str, request: Request, principal: Caller) -> JSONResponse:
        """The task of a submission and, once the jail has it, its SRE or ERRT as JSON."""
        need(principal, TASK_READ)
        need(principal, TRANSACTION_READ)
        booking, found = _read(request, principal, tcn)
        seen = "found" if booking is not None else "not-found"
        audit_access(service_of(request), principal, request, "READ_STATUS", seen, tcn=tcn)
        if booking is None:
            raise Problem(404, "not found", NOT_FOUND)
        body: dict[str, Any] = {
            "tcn": tcn,
            "task_id": task_id(tcn),
            "status": task_status_of(service_of(request).system, tcn, found).value,
            "links": {"self": f"/v1/transactions/{tcn}"},
        }
        if found is not None:
            body["response"] = {"type": found.type, **found.fields}
            body["links"]["response"] = f"/v1/transactions/{tcn}/response"
        return JSONResponse(body)

    @router.get(
        "/v1/transactions/{tcn}/response",
        tags=["transactions"],
        responses={200: {"content": {NIST_MEDIA: {}}}},
    )
    def response(tcn: str, request: Request, principal: Caller) -> Response:
        """The SRE or ERRT as ANSI/NIST-ITL bytes (404 until the jail has it)."""
        need(principal, TRANSACTION_READ)
        booking, found = _read(request, principal, tcn)
        ready = "found" if found is not None else "not-found"
        audit_access(service_of(request), principal, request, "READ_RESPONSE", ready, tcn=tcn)
        if booking is None:
            raise Problem(404, "not found", NOT_FOUND)
        if found is None:
            raise Problem(404, "no response yet", "the response is not ready", tcn=tcn)
        return Response(found.nist, media_type=NIST_MEDIA)

    @router.get("/v1/jurisdictions/{ori}/switches", tags=["switches"])
    def switches_of(ori: str, request: Request, principal: Caller) -> JSONResponse:
        """The switches A-D of a jurisdiction now: each one's value, and who set it and
        when (nulls where its default holds)."""
        need(principal, SWITCH_READ)
        service = service_of(request)
        seen = visible_jurisdiction(service.system, principal, ori)
        outcome = "found" if seen else "not-found"
        audit_access(service, principal, request, "READ_SWITCHES", outcome, ori=ori)
        if not seen:
            raise Problem(404, "not found", NO_JURISDICTION)
        at = service.system.clock.now()
        with service.system.unit_of_work() as uow:
            changes = switches.changes_in_force(uow, ori, at)
        return JSONResponse(
            {
                "ori": ori,
                "at": at.isoformat(),
                "switches": {s.value: switch_state(s, changes[s]) for s in Switch},
            }
        )

    @router.put("/v1/jurisdictions/{ori}/switches/{switch}", tags=["switches"])
    def set_switch(
        ori: str, switch: Switch, body: SwitchChangeBody, request: Request, principal: Caller
    ) -> JSONResponse:
        """Turn a switch of a jurisdiction on or off from now on, as the party the token
        names (a jail for its own ORI as the jurisdiction; an operator for the owner it
        names in `by`); 403 for a switch the party does not own. Audited with the agency."""
        need(principal, SWITCH_WRITE)
        if not body.reason.strip():
            raise Problem(422, "reason needed", "say why the switch changes")
        service = service_of(request)
        if not visible_jurisdiction(service.system, principal, ori):
            audit_access(service, principal, request, "SET_SWITCH", "not-found", ori=ori)
            raise Problem(404, "not found", NO_JURISDICTION)
        try:
            owner = party(principal, switch, body.by)
        except Problem:
            audit_access(service, principal, request, "SET_SWITCH", "refused", ori=ori)
            raise
        return _set_switch(service, principal, ori, switch, owner, body, request)


def _set_switch(
    service: Service,
    principal: Principal,
    ori: str,
    switch: Switch,
    owner: SwitchOwner,
    body: SwitchChangeBody,
    request: Request,
) -> JSONResponse:
    system = service.system
    with service.writer:
        with system.unit_of_work() as uow:
            setting = SwitchSetting(
                ori=ori, switch=switch, enabled=body.enabled, effective_from=uow.now,
                changed_by=owner, reason=body.reason.strip(),
            )  # fmt: skip
            try:
                switches.set_switch(
                    uow, setting, require_known_ori=True, agency=principal.client_id
                )
            except SwitchPermissionError as error:  # party() checked it already
                raise Problem(403, "not the switch's owner", error.message) from error
            uow.commit()
        with system.unit_of_work() as uow:
            change = switches.changes_in_force(uow, ori, setting.effective_from)[switch]
        agencies.record_access(
            system.db, system.clock.now(), principal.client_id, principal.scope_value,
            "SET_SWITCH",
            {"ori": ori, "switch": switch.value, "remote": remote(request), "outcome": "set"},
        )  # fmt: skip
    return JSONResponse({"ori": ori, **switch_state(switch, change)})


def _read(
    request: Request, principal: Principal, tcn: str
) -> tuple[BookingRow | None, FlowResponse | None]:
    """The caller's booking of `tcn` (None when it may not see it or there is none) and the
    response the jail has for it (None until then)."""
    system = service_of(request).system
    booking = visible_booking(system, principal, tcn)
    return booking, response_of(system, booking) if booking is not None else None


def _authenticate(service: Service, client_id: str, secret: str, address: str) -> Agency:
    system = service.system
    # the argon2id verification (a tenth of a second of CPU) before the write lock
    checked = agencies.check_secret(system.db, client_id, secret)
    with service.writer:
        return agencies.authenticate(
            system.db, system.clock.now(), client_id, secret, address, checked
        )


def _book(service: Service, principal: Principal, raw: bytes, address: str) -> JSONResponse:
    system = service.system
    # the decode, and the CAR's outbox text and digests: outside the lock
    booking = booking_from_car(raw, system, principal)
    rendered = system.rendered_car(booking, raw)
    tcn = booking.tcn

    def audited(uow: UnitOfWork) -> None:
        # in the booking's own transaction: one commit under the write lock, not two
        agencies.record_access_in(
            uow.session, uow.now, principal.client_id, principal.scope_value,
            "SUBMITTED", {"tcn": tcn, "remote": address, "outcome": "accepted"},
        )  # fmt: skip

    with service.writer:
        try:
            booked = system.book(
                booking, raw, submitted_by=principal.client_id, within=audited,
                rendered=rendered,
            )  # fmt: skip
        except TcnAlreadyUsed as error:
            raise Problem(
                409, "TCN already used", "a transaction with this TCN exists", tcn=tcn
            ) from error
        except BookingRefused as error:
            raise Problem(422, "booking refused", error.message, tcn=tcn) from error
    return JSONResponse(
        {
            "tcn": booked.tcn,
            "task_id": booked.case_id,
            "status": "PENDING",
            "links": {"self": f"/v1/transactions/{tcn}"},
        },
        status_code=202,
        headers={"Location": f"/v1/transactions/{tcn}"},
    )


def create_app(service: Service) -> FastAPI:
    """The app around `service`: /v1 routes, /openapi.json, problem+json errors; and the
    callback sender installed in the service's dispatcher."""
    app = build_app()
    app.state.service = service
    install_callbacks(service.system)
    return app


def build_app() -> FastAPI:
    """The routes and error handlers; requests find their service in `app.state.service`."""
    app = FastAPI(
        title="scomm",
        version="1",
        summary="The Secure Communities flow as a service: agencies submit EBTS transactions.",
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    add_routes(app)
    add_public_routes(app)
    add_callback_routes(app)
    add_ice_routes(app)
    add_jail_routes(app)
    add_audit_routes(app)

    @app.exception_handler(Problem)
    async def on_problem(_: Request, problem: Problem) -> JSONResponse:
        return problem_response(problem)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        title = {404: "not found", 405: "method not allowed"}.get(error.status_code, "error")
        return problem_response(
            Problem(error.status_code, title, str(error.detail), dict(error.headers or {}))
        )

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return problem_response(Problem(422, "invalid request", str(error.errors()[:3])))

    @app.exception_handler(IntegrityError)
    async def on_conflict(_: Request, error: IntegrityError) -> JSONResponse:
        # two requests in two processes (`scomm serve --acceptors N` on PostgreSQL) wrote
        # the same record at once: the database's constraint kept the first
        return problem_response(
            Problem(409, "conflict", "another request wrote the same record at the same moment")
        )

    @app.exception_handler(Exception)
    async def on_bug(_: Request, error: Exception) -> JSONResponse:
        return problem_response(Problem(500, "internal error", type(error).__name__))

    return app
