"""What ICE's parts of the flow can read back: LESC the IAQs it received and the IARs it sent
(LESC sees every case); an ERO field office the matches of its area of responsibility
(`scomm.domain.field_offices`), each with its IAR, its officer decision and the detainers
lodged on it.

The queries and responses are the messages the flow kept in its outbox (the IAQ with the
Nlets text LESC read, the IAR, the match notification, the detainer with its form's fields),
and the case, decision and detainer rows. Lists run in the outbox's order (`seq`): `after`
is the cursor of the last item seen. Each read returns plain JSON-ready dicts."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from scomm.domain.case import CaseState
from scomm.domain.field_offices import states_of_area
from scomm.domain.messages import (
    Actor,
    DeliveryStatus,
    Detainer,
    ImmigrationAlienQuery,
    ImmigrationAlienResponse,
    MatchNotification,
    message_from_payload,
)
from scomm.store.db import Database
from scomm.store.models import (
    CaseRow,
    DetainerRow,
    JurisdictionRow,
    OfficerDecisionRow,
    OutboxRow,
)

# any select: the helpers below add clauses and keep its type
Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")

# the states a case reaches by ERO's decision on its match (and by nothing else), and those
# after a transfer to ICE that follow a detainer
DECIDED = (
    CaseState.NO_ACTION,
    CaseState.DETAINER_LODGED,
    CaseState.NOTIFICATION_REQUESTED,
    CaseState.ICE_CUSTODY,
    CaseState.RELEASED_ON_BOND,
    CaseState.IN_PROCEEDINGS,
    CaseState.REMOVAL_ORDERED,
    CaseState.REMOVED,
    CaseState.RELIEF_GRANTED,
    CaseState.TERMINATED,
)
DEFAULT_PAGE = 100
MAX_PAGE = 500


def _moment(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _messages(type_name: str, recipient: Actor, delivered: bool) -> Select[OutboxRow]:
    query = select(OutboxRow).where(
        OutboxRow.type == type_name, OutboxRow.recipient == recipient.value
    )
    if delivered:
        query = query.where(OutboxRow.status == DeliveryStatus.DELIVERED.value)
    return query


def _page(query: Q, after: int, limit: int) -> Q:
    return query.where(OutboxRow.seq > after).order_by(OutboxRow.seq).limit(limit)


def _in_area(query: Q, area: str) -> Q:
    """Only the cases of jurisdictions in `area` (the query selects from OutboxRow or
    DetainerRow/OfficerDecisionRow by a case id column joined to CaseRow)."""
    return query.join(JurisdictionRow, JurisdictionRow.ori == CaseRow.ori).where(
        JurisdictionRow.state.in_(states_of_area(area))
    )


def _iaq_summary(row: OutboxRow) -> dict[str, Any]:
    payload = json.loads(row.payload)
    return {
        "case_id": row.case_id,
        "tcn": row.tcn,
        "message_id": row.message_id,
        "seq": row.seq,
        "booking_ori": payload.get("booking_ori"),
        "offense_code": payload.get("offense_code"),
        "ident_id": payload.get("ident_id"),
        "received_at": _moment(row.delivered_at),
        "links": {"self": f"/v1/lesc/iaqs/{row.case_id}"},
    }


def _iar_summary(row: OutboxRow) -> dict[str, Any]:
    payload = json.loads(row.payload)
    return {
        "case_id": row.case_id,
        "tcn": row.tcn,
        "message_id": row.message_id,
        "seq": row.seq,
        "removability": payload.get("removability"),
        "level": payload.get("level"),
        "rule_set": payload.get("rule_set"),
        "sent_at": _moment(row.created_at),
        "status": row.status,
        "links": {"self": f"/v1/lesc/iars/{row.case_id}"},
    }


def lesc_iaqs(db: Database, after: int = 0, limit: int = DEFAULT_PAGE) -> list[dict[str, Any]]:
    """The IAQs LESC received (delivered to it), oldest first."""
    query = _messages(ImmigrationAlienQuery.TYPE, Actor.LESC, delivered=True)
    with db.sessions() as session:
        return [_iaq_summary(row) for row in session.scalars(_page(query, after, limit))]


def lesc_iaq(db: Database, case_id: str) -> dict[str, Any] | None:
    """The IAQ LESC received for a case: its fields and its Nlets text; None if none."""
    query = _messages(ImmigrationAlienQuery.TYPE, Actor.LESC, delivered=True)
    with db.sessions() as session:
        row = session.scalars(query.where(OutboxRow.case_id == case_id).order_by(OutboxRow.seq))
        found = row.first()
        if found is None:
            return None
        payload = json.loads(found.payload)
        return {**_iaq_summary(found), "nlets": payload.pop("nlets_text", ""), "query": payload}


def lesc_iars(db: Database, after: int = 0, limit: int = DEFAULT_PAGE) -> list[dict[str, Any]]:
    """The IARs LESC sent (written to its outbox, delivered or not yet), oldest first."""
    query = select(OutboxRow).where(
        OutboxRow.type == ImmigrationAlienResponse.TYPE, OutboxRow.sender == Actor.LESC.value
    )
    with db.sessions() as session:
        return [_iar_summary(row) for row in session.scalars(_page(query, after, limit))]


def _iar_row(session: Session, case_id: str) -> OutboxRow | None:
    query = select(OutboxRow).where(
        OutboxRow.type == ImmigrationAlienResponse.TYPE,
        OutboxRow.sender == Actor.LESC.value,
        OutboxRow.case_id == case_id,
    )
    return session.scalars(query.order_by(OutboxRow.seq)).first()


def lesc_iar(db: Database, case_id: str) -> dict[str, Any] | None:
    """The IAR LESC sent on a case, with all its fields; None if none."""
    with db.sessions() as session:
        row = _iar_row(session, case_id)
        if row is None:
            return None
        return {**_iar_summary(row), "response": json.loads(row.payload)}


def _match_summary(row: OutboxRow, case: CaseRow, area: str) -> dict[str, Any]:
    payload = json.loads(row.payload)
    return {
        "case_id": row.case_id,
        "tcn": row.tcn,
        "seq": row.seq,
        "area": area,
        "booking_ori": case.ori,
        "received_at": _moment(row.delivered_at),
        "level": payload.get("level"),
        "removability": payload.get("removability"),
        "rule_set": payload.get("rule_set"),
        "case_state": case.state,
        "custody": case.custody,
        "decided": case.state in DECIDED,
        "links": {"self": f"/v1/ero/matches/{row.case_id}"},
    }


def _area_matches(area: str) -> Select[OutboxRow, CaseRow]:
    query = (
        select(OutboxRow, CaseRow)
        .join(CaseRow, CaseRow.case_id == OutboxRow.case_id)
        .where(
            OutboxRow.type == MatchNotification.TYPE,
            OutboxRow.recipient == Actor.ERO.value,
            OutboxRow.status == DeliveryStatus.DELIVERED.value,
        )
    )
    return _in_area(query, area)


def ero_matches(
    db: Database, area: str, after: int = 0, limit: int = DEFAULT_PAGE, *, waiting: bool = False
) -> list[dict[str, Any]]:
    """The match notifications the field office of `area` received, oldest first, each with
    its case's state and whether a decision was taken (`waiting`: only those without)."""
    query = _page(_area_matches(area), after, limit)
    if waiting:
        query = query.where(CaseRow.state.not_in([s.value for s in DECIDED]))
    with db.sessions() as session:
        return [_match_summary(row, case, area) for row, case in session.execute(query)]


def _decision(row: OfficerDecisionRow) -> dict[str, Any]:
    return {
        "case_id": row.case_id,
        "decision_id": row.decision_id,
        "decided_at": _moment(row.decided_at),
        "action": row.action,
        "reason": row.reason,
        "decided_by": row.decided_by,
        "simulated": row.decided_by.startswith("simulated:"),
    }


def _detainer(row: DetainerRow, session: Session) -> dict[str, Any]:
    """A detainer as ICE keeps it: the record, and the form's fields as served to the jail."""
    sent = session.scalars(
        select(OutboxRow)
        .where(OutboxRow.type == Detainer.TYPE, OutboxRow.case_id == row.case_id)
        .order_by(OutboxRow.seq)
    ).all()
    form: dict[str, Any] | None = None
    for message in sent:
        payload = json.loads(message.payload)
        if payload.get("detainer_id") == row.detainer_id:
            form = {"form": payload.get("form"), "fields": payload.get("fields", {})}
    return {
        "detainer_id": row.detainer_id,
        "case_id": row.case_id,
        "form": row.form,
        "lodged_at": _moment(row.lodged_at),
        "status": row.status,
        "honoured": row.honoured,
        "hold_deadline": _moment(row.hold_deadline),
        "withdrawn_at": _moment(row.withdrawn_at),
        "decided_by": row.decided_by,
        "decision_id": row.decision_id,
        "rule_set": row.rule_set,
        "served_form": form,
        "links": {"self": f"/v1/ero/detainers/{row.detainer_id}"},
    }


def ero_match(db: Database, area: str, case_id: str) -> dict[str, Any] | None:
    """One match of `area`: the notification, the IAR, the case, the decision and the
    detainers; None for a case that is not a match of `area` (or unknown)."""
    query = _area_matches(area).where(OutboxRow.case_id == case_id).order_by(OutboxRow.seq)
    with db.sessions() as session:
        found = session.execute(query).first()
        if found is None:
            return None
        row, case = found
        iar = _iar_row(session, case_id)
        decision = session.scalar(
            select(OfficerDecisionRow).where(OfficerDecisionRow.case_id == case_id)
        )
        lodged = select(DetainerRow).where(DetainerRow.case_id == case_id)
        detainers = session.scalars(lodged.order_by(DetainerRow.lodged_at)).all()
        return {
            **_match_summary(row, case, area),
            "notification": json.loads(row.payload),
            "iar": json.loads(iar.payload) if iar is not None else None,
            "decision": _decision(decision) if decision is not None else None,
            "detainers": [_detainer(d, session) for d in detainers],
        }


def ero_decisions(
    db: Database, area: str, after: int = 0, limit: int = DEFAULT_PAGE
) -> list[dict[str, Any]]:
    """The recorded officer decisions on `area`'s cases, in the order made (`after`: the
    last decision's `id`). With safeguard (c) off no decision row is kept (only its audit
    entry), and this list stays empty."""
    query = (
        select(OfficerDecisionRow)
        .join(CaseRow, CaseRow.case_id == OfficerDecisionRow.case_id)
        .where(OfficerDecisionRow.id > after)
        .order_by(OfficerDecisionRow.id)
        .limit(limit)
    )
    with db.sessions() as session:
        return [{**_decision(row), "id": row.id} for row in session.scalars(_in_area(query, area))]


def ero_detainers(
    db: Database, area: str, after: str = "", limit: int = DEFAULT_PAGE
) -> list[dict[str, Any]]:
    """The detainers lodged on `area`'s cases, by detainer id (`after`: the last one seen)."""
    query = (
        select(DetainerRow)
        .join(CaseRow, CaseRow.case_id == DetainerRow.case_id)
        .where(DetainerRow.detainer_id > after)
        .order_by(DetainerRow.detainer_id)
        .limit(limit)
    )
    with db.sessions() as session:
        return [_detainer(row, session) for row in session.scalars(_in_area(query, area))]


def ero_detainer(db: Database, area: str, detainer_id: str) -> dict[str, Any] | None:
    """One detainer of `area`, None for another area's or an unknown one."""
    query = (
        select(DetainerRow)
        .join(CaseRow, CaseRow.case_id == DetainerRow.case_id)
        .where(DetainerRow.detainer_id == detainer_id)
    )
    with db.sessions() as session:
        row = session.scalar(_in_area(query, area))
        return _detainer(row, session) if row is not None else None


def match_notification(session: Session, case_id: str) -> MatchNotification | None:
    """The match notification ERO received on a case (what a decision is taken on)."""
    row = session.scalars(
        select(OutboxRow)
        .where(
            OutboxRow.type == MatchNotification.TYPE,
            OutboxRow.recipient == Actor.ERO.value,
            OutboxRow.case_id == case_id,
        )
        .order_by(OutboxRow.seq)
    ).first()
    if row is None:
        return None
    message = message_from_payload(row.type, json.loads(row.payload))
    return message if isinstance(message, MatchNotification) else None
