"""ICE's routes: LESC reads the IAQs it received (as JSON, or as the Nlets text it read) and
the IARs it sent; an ERO field office reads the match queue of its area of responsibility,
each match with its IAR, its decisions and the detainers it lodged, and, where matches wait
for a person (`Settings.officer_review`), records an officer's decision.

LESC sees every case; a field office only its area's (`scomm.domain.field_offices`): another
area's match or detainer answers 404, as an unknown one does. Each route needs its scope and
its agency's kind (a scope given to another kind opens nothing: OWASP API5); every read and
write is audited (AU-2)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from scomm.api.common import Caller, Service, audit_access, need, remote, service_of
from scomm.api.errors import Problem
from scomm.api.tokens import Principal
from scomm.domain.agencies import (
    DECISION_READ,
    DECISION_WRITE,
    IAQ_READ,
    IAR_READ,
    MATCH_READ,
    AgencyKind,
)
from scomm.domain.policies import OfficerAction, OfficerDecision
from scomm.services import agencies, ice_reads
from scomm.services.ero import AlreadyDecided, DecisionNotAllowed, FieldOffice

NO_CASE = "no such case"
NO_MATCH = "no match with this case id"
NO_DETAINER = "no detainer with this id"
NLETS_MEDIA = "text/plain"

After = Annotated[int, Query(ge=0, le=2**62, description="the cursor of the last item seen")]
Limit = Annotated[int, Query(ge=1, le=ice_reads.MAX_PAGE)]


class DecisionBody(BaseModel):
    """An officer's decision on a match: what to do, why, and who decided (the officer's
    name or badge, recorded with the field office's client id)."""

    model_config = ConfigDict(extra="forbid")

    action: OfficerAction
    reason: str = Field(min_length=1, max_length=500)
    officer: str = Field(pattern=r"^[A-Za-z0-9._-]{1,16}$")


def _kind(principal: Principal, kind: AgencyKind) -> None:
    if principal.kind is not kind:
        raise Problem(403, "not for this agency", f"only a {kind} agency may use this route")


def _area(principal: Principal, scope: str) -> str:
    need(principal, scope)
    _kind(principal, AgencyKind.ERO)
    if principal.scope_value is None:  # pragma: no cover - an ERO agency always has one
        raise Problem(403, "no area", "the token names no area of responsibility")
    return principal.scope_value


def _page(items: list[dict[str, Any]], key: str, path: str, limit: int) -> dict[str, Any]:
    body: dict[str, Any] = {"items": items, "links": {"self": path}}
    if len(items) == limit:
        body["links"]["next"] = f"{path}?after={items[-1][key]}&limit={limit}"
    return body


def add_ice_routes(app: FastAPI) -> None:
    """LESC's and ERO's /v1 routes, on the app itself."""

    @app.get("/v1/lesc/iaqs", tags=["lesc"])
    def lesc_iaqs(
        request: Request, principal: Caller, after: After = 0, limit: Limit = 100
    ) -> JSONResponse:
        """The IAQs LESC received, oldest first (`after`: the `seq` of the last one seen)."""
        need(principal, IAQ_READ)
        _kind(principal, AgencyKind.LESC)
        service = service_of(request)
        items = ice_reads.lesc_iaqs(service.system.db, after, limit)
        audit_access(service, principal, request, "READ_IAQS", "found", count=len(items))
        return JSONResponse(_page(items, "seq", "/v1/lesc/iaqs", limit))

    @app.get(
        "/v1/lesc/iaqs/{case_id}",
        tags=["lesc"],
        responses={200: {"content": {NLETS_MEDIA: {}}}},
    )
    def lesc_iaq(case_id: str, request: Request, principal: Caller) -> Response:
        """The IAQ LESC received on a case: as JSON (its fields and its Nlets text), or the
        Nlets text alone where the request accepts text/plain."""
        need(principal, IAQ_READ)
        _kind(principal, AgencyKind.LESC)
        service = service_of(request)
        found = ice_reads.lesc_iaq(service.system.db, case_id)
        seen = "found" if found is not None else "not-found"
        audit_access(service, principal, request, "READ_IAQ", seen, case_id=case_id)
        if found is None:
            raise Problem(404, "not found", NO_CASE)
        if _wants_text(request):
            return PlainTextResponse(found["nlets"])
        return JSONResponse(found)

    @app.get("/v1/lesc/iars", tags=["lesc"])
    def lesc_iars(
        request: Request, principal: Caller, after: After = 0, limit: Limit = 100
    ) -> JSONResponse:
        """The IARs LESC sent, oldest first (`after`: the `seq` of the last one seen)."""
        need(principal, IAR_READ)
        _kind(principal, AgencyKind.LESC)
        service = service_of(request)
        items = ice_reads.lesc_iars(service.system.db, after, limit)
        audit_access(service, principal, request, "READ_IARS", "found", count=len(items))
        return JSONResponse(_page(items, "seq", "/v1/lesc/iars", limit))

    @app.get("/v1/lesc/iars/{case_id}", tags=["lesc"])
    def lesc_iar(case_id: str, request: Request, principal: Caller) -> JSONResponse:
        """The IAR LESC sent on a case, as JSON (the flow keeps no Nlets text of an IAR)."""
        need(principal, IAR_READ)
        _kind(principal, AgencyKind.LESC)
        service = service_of(request)
        found = ice_reads.lesc_iar(service.system.db, case_id)
        seen = "found" if found is not None else "not-found"
        audit_access(service, principal, request, "READ_IAR", seen, case_id=case_id)
        if found is None:
            raise Problem(404, "not found", NO_CASE)
        return JSONResponse(found)

    @app.get("/v1/ero/matches", tags=["ero"])
    def ero_matches(
        request: Request, principal: Caller, after: After = 0, limit: Limit = 100,
        waiting: bool = False,
    ) -> JSONResponse:  # fmt: skip
        """The field office's match queue: the match notifications of its area, oldest
        first, each with its case's state and whether it was decided (`waiting`: only the
        undecided)."""
        area = _area(principal, MATCH_READ)
        service = service_of(request)
        items = ice_reads.ero_matches(service.system.db, area, after, limit, waiting=waiting)
        audit_access(service, principal, request, "READ_MATCHES", "found", count=len(items))
        return JSONResponse(_page(items, "seq", "/v1/ero/matches", limit))

    @app.get("/v1/ero/matches/{case_id}", tags=["ero"])
    def ero_match(case_id: str, request: Request, principal: Caller) -> JSONResponse:
        """One match of the office's area: the notification, its IAR, the case, the officer
        decision and the detainers lodged."""
        area = _area(principal, MATCH_READ)
        service = service_of(request)
        found = ice_reads.ero_match(service.system.db, area, case_id)
        seen = "found" if found is not None else "not-found"
        audit_access(service, principal, request, "READ_MATCH", seen, case_id=case_id)
        if found is None:
            raise Problem(404, "not found", NO_MATCH)
        return JSONResponse(found)

    @app.post("/v1/ero/matches/{case_id}/decision", tags=["ero"])
    def ero_decide(
        case_id: str, body: DecisionBody, request: Request, principal: Caller
    ) -> JSONResponse:
        """An officer's decision on a match that waits for one (the service runs with
        officer review on): lodge a detainer (the form of the day, or a notification request
        where the hold form's conditions fail), request notification, or no action. 409 when
        the match has its decision, or when the simulated officer decides matches; 422 for a
        request the rule set in force forbids (the IAR's detainer criteria and hold rule)."""
        area = _area(principal, DECISION_WRITE)
        service = service_of(request)
        if ice_reads.ero_match(service.system.db, area, case_id) is None:
            audit_access(service, principal, request, "DECIDE", "not-found", case_id=case_id)
            raise Problem(404, "not found", NO_MATCH)
        if not service.system.settings.officer_review:
            audit_access(service, principal, request, "DECIDE", "refused", case_id=case_id)
            raise Problem(
                409, "decided by policy",
                "this service lets the simulated officer decide matches (officer review off)",
                case_id=case_id,
            )  # fmt: skip
        decided_by = f"{body.officer}@{principal.client_id}"
        decision = OfficerDecision(body.action, body.reason.strip(), decided_by)
        _decide(service, principal, request, case_id, decision)
        found = ice_reads.ero_match(service.system.db, area, case_id)
        return JSONResponse(found)

    @app.get("/v1/ero/decisions", tags=["ero"])
    def ero_decisions(
        request: Request, principal: Caller, after: After = 0, limit: Limit = 100
    ) -> JSONResponse:
        """The officer decisions recorded on the area's cases, in the order made (`after`:
        the `id` of the last one seen)."""
        area = _area(principal, DECISION_READ)
        service = service_of(request)
        items = ice_reads.ero_decisions(service.system.db, area, after, limit)
        audit_access(service, principal, request, "READ_DECISIONS", "found", count=len(items))
        return JSONResponse(_page(items, "id", "/v1/ero/decisions", limit))

    @app.get("/v1/ero/detainers", tags=["ero"])
    def ero_detainers(
        request: Request, principal: Caller,
        after: Annotated[str, Query(max_length=64)] = "", limit: Limit = 100,
    ) -> JSONResponse:  # fmt: skip
        """The detainers lodged on the area's cases, by id (`after`: the last id seen),
        each with the form's fields as served to the jail and ICE's own record of it."""
        area = _area(principal, DECISION_READ)
        service = service_of(request)
        items = ice_reads.ero_detainers(service.system.db, area, after, limit)
        audit_access(service, principal, request, "READ_DETAINERS", "found", count=len(items))
        return JSONResponse(_page(items, "detainer_id", "/v1/ero/detainers", limit))

    @app.get("/v1/ero/detainers/{detainer_id}", tags=["ero"])
    def ero_detainer(detainer_id: str, request: Request, principal: Caller) -> JSONResponse:
        """One detainer of the area: ICE's record and the form served to the jail."""
        area = _area(principal, DECISION_READ)
        service = service_of(request)
        found = ice_reads.ero_detainer(service.system.db, area, detainer_id)
        seen = "found" if found is not None else "not-found"
        audit_access(service, principal, request, "READ_DETAINER", seen, detainer_id=detainer_id)
        if found is None:
            raise Problem(404, "not found", NO_DETAINER)
        return JSONResponse(found)


def _wants_text(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return NLETS_MEDIA in types and "application/json" not in types


def _decide(
    service: Service, principal: Principal, request: Request, case_id: str,
    decision: OfficerDecision,
) -> None:  # fmt: skip
    """The decision through the field office's own path, in one transaction under the
    writer lock, audited with the agency (the decision's own audit entry names the officer)."""
    system = service.system
    details: dict[str, Any] = {"case_id": case_id, "action": decision.action.value}
    problem: Problem | None = None
    with service.writer:
        with system.unit_of_work(cause=f"decision|{case_id}") as uow:
            message = ice_reads.match_notification(uow.session, case_id)
            if message is None:  # pragma: no cover - the caller found the match
                raise Problem(404, "not found", NO_MATCH)
            try:
                state = FieldOffice(system.ctx).decide(uow, message, decision)
            except AlreadyDecided as error:
                problem = Problem(409, "already decided", error.message, case_id=case_id)
                details["outcome"] = "refused"
            except DecisionNotAllowed as error:
                problem = Problem(422, "not allowed by the rule set", error.message,
                                  case_id=case_id)  # fmt: skip
                details["outcome"] = "refused"
            else:
                uow.commit()
                details.update(outcome="decided", case_state=state.value)
        agencies.record_access(
            system.db, system.clock.now(), principal.client_id, principal.scope_value,
            "DECIDE", {**details, "remote": remote(request)},
        )  # fmt: skip
    system.checkpoint_due()
    if problem is not None:
        raise problem
