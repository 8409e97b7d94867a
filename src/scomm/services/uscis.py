"""USCIS benefit records: what the world enrols and LESC's status-currency check queries.

A real LESC checks USCIS systems (CIS, CLAIMS) by A-number for a naturalization, a derived
citizenship certificate or an adjustment of status that IDENT's record may not show. The
synthetic world feeds them with `record_benefit`; LESC reads them with `benefits_for`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.domain.immigration import BenefitKind, BenefitRecord
from scomm.store.models import BenefitRecordRow


def record_benefit(session: Session, record: BenefitRecord) -> None:
    session.add(
        BenefitRecordRow(
            a_number=record.a_number,
            kind=record.kind.value,
            granted_at=record.granted_at,
            receipt=record.receipt,
        )
    )


def benefits_for(session: Session, a_number: str) -> list[BenefitRecord]:
    rows = session.scalars(
        select(BenefitRecordRow)
        .where(BenefitRecordRow.a_number == a_number)
        .order_by(BenefitRecordRow.granted_at)
    ).all()
    return [BenefitRecord(r.a_number, BenefitKind(r.kind), r.granted_at, r.receipt) for r in rows]
