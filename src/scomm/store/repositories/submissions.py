"""CJIS's record of each CAR it accepted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Protocol

from sqlalchemy.orm import Session

from scomm.domain.records import CriminalSubmission
from scomm.store.models import CriminalSubmissionRow


class CriminalSubmissions(Protocol):
    def add(self, submission: CriminalSubmission) -> None: ...

    def get(self, tcn: str) -> CriminalSubmission | None: ...


class SqlCriminalSubmissions:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, submission: CriminalSubmission) -> None:
        self._session.add(CriminalSubmissionRow(**asdict(submission)))

    def get(self, tcn: str) -> CriminalSubmission | None:
        row = self._session.get(CriminalSubmissionRow, tcn)
        if row is None:
            return None
        return CriminalSubmission(
            tcn=row.tcn,
            case_id=row.case_id,
            booking_ori=row.booking_ori,
            received_at=row.received_at,
            name=row.name,
            dob=row.dob,
            sex=row.sex,
            pob=row.pob,
            offense_code=row.offense_code,
            offense_confidence=row.offense_confidence,
            fbi_number=row.fbi_number,
            identified=row.identified,
        )
