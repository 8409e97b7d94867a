"""USCIS benefit records by A-number: the source LESC's status-currency check queries.

A real LESC checks USCIS systems (CIS, CLAIMS) by A-number for a naturalization, a derived
citizenship certificate or an adjustment of status that IDENT's record may not show.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.domain.immigration import BenefitKind, BenefitRecord
from scomm.store.models import BenefitRecordRow


class Benefits(Protocol):
    def add(self, record: BenefitRecord) -> None: ...

    def for_a_number(self, a_number: str) -> list[BenefitRecord]:
        """The benefits granted under `a_number`, oldest first."""
        ...


class SqlBenefits:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, record: BenefitRecord) -> None:
        self._session.add(
            BenefitRecordRow(
                a_number=record.a_number,
                kind=record.kind.value,
                granted_at=record.granted_at,
                receipt=record.receipt,
            )
        )

    def for_a_number(self, a_number: str) -> list[BenefitRecord]:
        rows = self._session.scalars(
            select(BenefitRecordRow)
            .where(BenefitRecordRow.a_number == a_number)
            .order_by(BenefitRecordRow.granted_at)
        )
        return [
            BenefitRecord(r.a_number, BenefitKind(r.kind), r.granted_at, r.receipt) for r in rows
        ]
