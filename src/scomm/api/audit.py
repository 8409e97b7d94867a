"""The audit chain for auditors over the service: its entries, paged and filtered, and its
verification (scomm.audit.chain). Entries carry personal data (a message entry keeps the
message's body: an IAQ's name and date of birth, an IAR's criminal history, a detainer's
form), so only the scope scomm.audit.read reads them: auditors and operators. Every read
and every verification is itself written to the chain (AU-2: access to the audit log)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from scomm.api.common import Caller, audit_access, need, service_of
from scomm.api.errors import Problem
from scomm.audit.chain import consistent_snapshot, verify
from scomm.domain.agencies import AUDIT_READ
from scomm.store.models import AuditEntryRow, AuditHeadRow

ENTRIES = "/v1/audit/entries"
PAGE = 100  # entries per page unless `limit` says
MAX_PAGE = 1000


def _entry(row: AuditEntryRow) -> dict[str, Any]:
    try:
        payload: Any = json.loads(row.payload)
    except ValueError:  # a tampered row: shown as stored (verify names it)
        payload = row.payload
    return {
        "seq": row.seq,
        "recorded_at": row.recorded_at.isoformat(),
        "kind": row.kind,
        "name": row.name,
        "actor": row.actor,
        "case_id": row.case_id,
        "payload": payload,
        "prev_hash": row.prev_hash,
        "entry_hash": row.entry_hash,
    }


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def utc_moment(text: str) -> datetime:
    """An RFC 3339 date-time (its offset required, as JSON Schema's `date-time` has it) as
    naive UTC, the audit log's time; 422 for anything else."""
    if RFC3339.fullmatch(text):
        try:
            moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
            return moment.astimezone(UTC).replace(tzinfo=None)
        except (ValueError, OverflowError):  # OverflowError: past year 9999 (or 1) in UTC
            pass
    raise Problem(422, "invalid request", f"since: {text[:40]!r} is no RFC 3339 date-time")


def add_audit_routes(app: FastAPI) -> None:
    """The auditors' routes under /v1/audit (on the app itself)."""

    @app.get(ENTRIES, tags=["audit"])
    def entries(
        request: Request,
        principal: Caller,
        kind: Annotated[str | None, Query(max_length=20)] = None,
        name: Annotated[str | None, Query(max_length=40)] = None,
        case: Annotated[str | None, Query(max_length=64)] = None,
        since: Annotated[
            str | None,
            Query(
                max_length=40,
                description="RFC 3339 date-time with its offset, e.g. 2026-12-07T09:00:00Z",
                json_schema_extra={"format": "date-time"},
            ),
        ] = None,
        after: Annotated[int, Query(ge=0, le=2**62)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = PAGE,
    ) -> JSONResponse:
        """Audit entries in chain order, after entry `after` (a page of `limit`), those of a
        `kind`, `name`, `case` (case id) or recorded at or after `since`; `next` links the
        following page. The read is audited with its filters and the entries it returned."""
        need(principal, AUDIT_READ)
        service = service_of(request)
        moment = utc_moment(since) if since is not None else None
        query = select(AuditEntryRow).where(AuditEntryRow.seq > after)
        if kind is not None:
            query = query.where(AuditEntryRow.kind == kind)
        if name is not None:
            query = query.where(AuditEntryRow.name == name)
        if case is not None:
            query = query.where(AuditEntryRow.case_id == case)
        if moment is not None:
            query = query.where(AuditEntryRow.recorded_at >= moment)
        with service.system.db.sessions() as session:
            rows = session.scalars(query.order_by(AuditEntryRow.seq).limit(limit + 1)).all()
            shown = [_entry(row) for row in rows[:limit]]
        filters = {
            "kind": kind, "name": name, "case": case,
            "since": since,
        }  # fmt: skip
        given = {k: v for k, v in filters.items() if v is not None}
        following = None
        if len(rows) > limit:
            page = {**given, "after": shown[-1]["seq"], "limit": limit}
            following = f"{ENTRIES}?{urlencode(page)}"
        audit_access(
            service, principal, request, "READ_AUDIT", "found", filters=given, after=after,
            entries=[shown[0]["seq"], shown[-1]["seq"]] if shown else [],
        )  # fmt: skip
        return JSONResponse({"entries": shown, "next": following})

    @app.get("/v1/audit/verify", tags=["audit"])
    def verify_chain(request: Request, principal: Caller) -> JSONResponse:
        """Walk the chain from its first entry (in one consistent snapshot): whether it
        holds, how many entries, the head's seq and hash, and the first bad entry. The
        verification is audited with its result (after it: it does not count itself)."""
        need(principal, AUDIT_READ)
        service = service_of(request)
        with consistent_snapshot(service.system.db) as session:
            result = verify(session)
            head = session.get(AuditHeadRow, 1)
            head_seq, head_hash = (head.seq, head.entry_hash) if head is not None else (0, None)
        audit_access(
            service, principal, request, "VERIFY_AUDIT", "ok" if result.ok else "broken",
            entries=result.entries, first_bad_seq=result.first_bad_seq,
        )  # fmt: skip
        return JSONResponse(
            {
                "ok": result.ok,
                "entries": result.entries,
                "head": {"seq": head_seq, "hash": head_hash},
                "first_bad_seq": result.first_bad_seq,
                "problem": result.problem or None,
            }
        )
