"""What every route module of the app shares: the running `Service`, the bearer-token
`caller` dependency and the scope check, problem+json answers, bounded body reads, and the
audit record of an access (AU-2/AU-3: who, for whom, what, from where, the outcome)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from scomm.api.errors import InvalidToken, Problem
from scomm.api.tokens import Principal, TokenKeys
from scomm.services import agencies
from scomm.system import System

PROBLEM = "application/problem+json"

# Every error of every route, as /openapi.json documents it: RFC 9457 problem details, with
# the members of our own (`errt`: the ERRT field at fault; `error`: OAuth2's error code).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errt": {
            "type": "object",
            "description": "the ERRT's field at fault and its messages",
            "properties": {
                "field": {"type": "string"},
                "messages": {"type": "array", "items": {"type": "string"}},
            },
        },
        "error": {"type": "string", "description": "the OAuth2 error code"},
    },
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "the request is refused (RFC 9457 problem details)",
        "content": {PROBLEM: {"schema": PROBLEM_SCHEMA}},
    }
}

# Declares the bearer scheme in /openapi.json; `caller` reads and checks the header itself.
bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="a token from POST /v1/oauth/token (OAuth2 client credentials)",
)


@dataclass
class Service:
    """What the app serves: a running system and its token keys; `now` gives the seconds
    since the epoch that tokens are issued and checked at.

    `writer` is held around every write of the process (each request's, and the dispatcher
    thread's runs): on SQLite a transaction reads the audit chain's head and appends after
    it, so two writers at once could both append the same seq. `scomm serve` gives it the
    lock of all the processes that serve the database
    (`scomm.store.write_lock.write_lock_for`)."""

    system: System
    keys: TokenKeys
    now: Callable[[], int] = field(default=lambda: int(time.time()))
    writer: AbstractContextManager[Any] = field(default_factory=threading.Lock)


def problem_response(problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    body.update({k: v for k, v in problem.members.items() if v is not None})
    return JSONResponse(body, problem.status, headers=problem.headers, media_type=PROBLEM)


def remote(request: Request) -> str:
    return request.client.host if request.client else ""


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def caller(
    request: Request, declared: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The principal of the request's bearer token; 401 without a valid one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="scomm"'}
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "authentication required", "a bearer token is required", challenge)
    service = service_of(request)
    challenge["WWW-Authenticate"] += ', error="invalid_token"'
    try:
        principal = service.keys.verify(token.strip(), service.now())
    except InvalidToken as error:
        _refused(service, request, "invalid-token")
        raise Problem(401, "invalid token", error.message, challenge) from error
    # A token outlives nothing: an agency revoked or locked since it was issued is refused
    # at once, not when the token expires.
    agency = agencies.find_agency(service.system.db, principal.client_id)
    if agency is None or not agency.active:
        _refused(service, request, "agency-inactive", principal.client_id)
        raise Problem(401, "invalid token", "the agency is revoked or locked", challenge)
    return principal


def _refused(service: Service, request: Request, outcome: str, client_id: str = "") -> None:
    """A refused bearer token, in the audit chain as a failed authentication (AU-2)."""
    system = service.system
    with service.writer:
        agencies.record_refused_token(
            system.db, system.clock.now(), remote(request), outcome, client_id
        )


Caller = Annotated[Principal, Depends(caller)]


def need(principal: Principal, scope: str) -> None:
    if scope not in principal.scopes:
        raise Problem(
            403, "insufficient scope", f"this needs the scope {scope}",
            {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        )  # fmt: skip


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, refused (413) past `limit` bytes: by its Content-Length before
    anything is read, and while it streams when it has none (or a false one)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Problem(400, "bad Content-Length", f"Content-Length {declared[:20]!r}")
        if int(declared) > limit:
            raise Problem(413, "body too large", f"at most {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "body too large", f"at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def audit_access(
    service: Service, principal: Principal, request: Request, what: str, outcome: str,
    **details: Any,
) -> None:  # fmt: skip
    """Write one access of `principal` to the audit chain (AU-2/AU-3): what it did, to which
    object (`details`), the outcome, and the request's remote address."""
    system = service.system
    with service.writer:
        agencies.record_access(
            system.db, system.clock.now(), principal.client_id, principal.scope_value, what,
            {**details, "remote": remote(request), "outcome": outcome},
        )  # fmt: skip
