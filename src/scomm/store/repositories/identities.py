"""A biometric repository's identities: subjects, their encounters and finger templates
(the criminal one is CJIS's, the immigration one IDENT's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.biometrics.protocols import Template
from scomm.domain.immigration import RecordedStatus
from scomm.domain.records import Encounter, EncounterKind, Repository, Subject
from scomm.store.models import EncounterRow, FingerTemplateRow, SubjectRow
from scomm.store.templates import store_templates


class Identities(Protocol):
    """One repository's identities (`uow.identities(Repository.CRIMINAL)`)."""

    def enrol(self, subject: Subject, templates: Mapping[int, Template], engine: str) -> None:
        """Record a new identity and its templates in the database; the caller tells the
        in-memory gallery (`uow.after_commit`), which this layer does not hold."""
        ...

    def subject(self, identity_id: str) -> Subject | None: ...

    def add_encounter(self, encounter: Encounter) -> None: ...

    def encounters(self, identity_id: str) -> list[Encounter]:
        """The identity's encounters, oldest first (in the order recorded within a moment)."""
        ...

    def template(self, identity_id: str, finger: int) -> bytes | None:
        """The stored template of one finger, as the engine's codec wrote it."""
        ...


class SqlIdentities:
    def __init__(self, session: Session, repository: Repository) -> None:
        self._session = session
        self.repository = repository

    def enrol(self, subject: Subject, templates: Mapping[int, Template], engine: str) -> None:
        self._session.add(
            SubjectRow(
                repository=self.repository.value,
                identity_id=subject.identity_id,
                name=subject.name,
                dob=subject.dob,
                sex=subject.sex,
                pob=subject.pob,
                a_number=subject.a_number,
                recorded_status=subject.recorded_status.value if subject.recorded_status else None,
                enrolled_at=subject.enrolled_at,
            )
        )
        if templates:  # no template, no change to the repository's gallery
            store_templates(self._session, self.repository, subject.identity_id, templates, engine)

    def subject(self, identity_id: str) -> Subject | None:
        row = self._session.get(SubjectRow, (self.repository.value, identity_id))
        if row is None:
            return None
        return Subject(
            repository=self.repository,
            identity_id=row.identity_id,
            name=row.name,
            dob=row.dob,
            sex=row.sex,
            pob=row.pob,
            enrolled_at=row.enrolled_at,
            a_number=row.a_number,
            recorded_status=RecordedStatus(row.recorded_status) if row.recorded_status else None,
        )

    def add_encounter(self, encounter: Encounter) -> None:
        self._session.add(
            EncounterRow(
                repository=self.repository.value,
                identity_id=encounter.identity_id,
                at=encounter.at,
                kind=encounter.kind.value,
                detail=encounter.detail,
                ori=encounter.ori,
            )
        )

    def encounters(self, identity_id: str) -> list[Encounter]:
        rows = self._session.scalars(
            select(EncounterRow)
            .where(
                EncounterRow.repository == self.repository.value,
                EncounterRow.identity_id == identity_id,
            )
            .order_by(EncounterRow.at, EncounterRow.id)
        )
        return [
            Encounter(self.repository, r.identity_id, r.at, EncounterKind(r.kind), r.detail, r.ori)
            for r in rows
        ]

    def template(self, identity_id: str, finger: int) -> bytes | None:
        return self._session.scalar(
            select(FingerTemplateRow.data).where(
                FingerTemplateRow.repository == self.repository.value,
                FingerTemplateRow.identity_id == identity_id,
                FingerTemplateRow.finger == finger,
            )
        )
