"""The detainer record (ICE lodges it, the jail answers on it) and ICE's officer decisions."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.domain.policies import OfficerAction
from scomm.domain.records import DetainerRecord, DetainerStatus, OfficerDecisionRecord
from scomm.store.models import DetainerRow, OfficerDecisionRow
from scomm.store.repositories.tracking import Tracked


class Detainers(Protocol):
    def add(self, detainer: DetainerRecord) -> None: ...

    def get(self, detainer_id: str) -> DetainerRecord | None: ...

    def for_case(self, case_id: str) -> list[DetainerRecord]:
        """The case's detainers in the order they were lodged."""
        ...


class OfficerDecisions(Protocol):
    def add(self, decision: OfficerDecisionRecord) -> None: ...

    def find(self, case_id: str, decision_id: str | None) -> OfficerDecisionRecord | None: ...


class SqlDetainers(Tracked[DetainerRecord, DetainerRow]):
    def _key(self, row: DetainerRow) -> str:
        return row.detainer_id

    def _record(self, row: DetainerRow) -> DetainerRecord:
        return DetainerRecord(
            detainer_id=row.detainer_id,
            case_id=row.case_id,
            form=row.form,
            lodged_at=row.lodged_at,
            decided_by=row.decided_by,
            status=DetainerStatus(row.status),
            honoured=row.honoured,
            hold_deadline=row.hold_deadline,
            rule_set=row.rule_set,
            decision_id=row.decision_id,
            withdrawn_at=row.withdrawn_at,
        )

    def _write(self, detainer: DetainerRecord, row: DetainerRow) -> None:
        row.case_id, row.form = detainer.case_id, detainer.form
        row.lodged_at, row.decided_by = detainer.lodged_at, detainer.decided_by
        row.status, row.honoured = detainer.status.value, detainer.honoured
        row.hold_deadline, row.rule_set = detainer.hold_deadline, detainer.rule_set
        row.decision_id, row.withdrawn_at = detainer.decision_id, detainer.withdrawn_at

    def add(self, detainer: DetainerRecord) -> None:
        row = DetainerRow(detainer_id=detainer.detainer_id)
        self._write(detainer, row)
        self._add(detainer, row)

    def get(self, detainer_id: str) -> DetainerRecord | None:
        if detainer_id in self._seen:
            return self._seen[detainer_id][0]
        row = self._session.get(DetainerRow, detainer_id)
        return None if row is None else self._track(row)

    def for_case(self, case_id: str) -> list[DetainerRecord]:
        self.sync()
        rows = self._session.scalars(
            select(DetainerRow)
            .where(DetainerRow.case_id == case_id)
            .order_by(DetainerRow.lodged_at, DetainerRow.detainer_id)
        )
        return [self._track(row) for row in rows]


class SqlOfficerDecisions:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, decision: OfficerDecisionRecord) -> None:
        self._session.add(
            OfficerDecisionRow(
                case_id=decision.case_id,
                decided_at=decision.decided_at,
                action=decision.action.value,
                reason=decision.reason,
                decided_by=decision.decided_by,
                decision_id=decision.decision_id,
            )
        )

    def find(self, case_id: str, decision_id: str | None) -> OfficerDecisionRecord | None:
        row = self._session.scalar(
            select(OfficerDecisionRow).where(
                OfficerDecisionRow.case_id == case_id,
                OfficerDecisionRow.decision_id == decision_id,
            )
        )
        if row is None:
            return None
        return OfficerDecisionRecord(
            case_id=row.case_id,
            decided_at=row.decided_at,
            action=OfficerAction(row.action),
            reason=row.reason,
            decided_by=row.decided_by,
            decision_id=row.decision_id,
        )
