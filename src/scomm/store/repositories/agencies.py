"""The agencies (clients of the service) in SQL: read and written whole, secrets as hashes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.domain.agencies import Agency, AgencyKind
from scomm.store.models import AgencyRow


def _agency(row: AgencyRow) -> Agency:
    return Agency(
        client_id=row.client_id,
        kind=AgencyKind(row.kind),
        name=row.name,
        scope_value=row.scope_value,
        scopes=tuple(row.scopes.split()),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        locked_at=row.locked_at,
        failed_attempts=row.failed_attempts,
        first_failure_at=row.first_failure_at,
    )


class SqlAgencies:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, agency: Agency, secret_hash: str) -> None:
        self.session.add(
            AgencyRow(
                client_id=agency.client_id,
                kind=agency.kind.value,
                name=agency.name,
                scope_value=agency.scope_value,
                scopes=" ".join(agency.scopes),
                secret_hash=secret_hash,
                created_at=agency.created_at,
                last_used_at=agency.last_used_at,
                revoked_at=agency.revoked_at,
                locked_at=agency.locked_at,
                failed_attempts=agency.failed_attempts,
                first_failure_at=agency.first_failure_at,
            )
        )
        self.session.flush()

    def get(self, client_id: str, *, for_update: bool = False) -> Agency | None:
        row = self.session.get(AgencyRow, client_id, with_for_update=for_update)
        return None if row is None else _agency(row)

    def secret_hash(self, client_id: str) -> str | None:
        row = self.session.get(AgencyRow, client_id)
        return None if row is None else row.secret_hash

    def all(self) -> list[Agency]:
        rows = self.session.scalars(select(AgencyRow).order_by(AgencyRow.client_id))
        return [_agency(row) for row in rows]

    def save(self, agency: Agency, secret_hash: str | None = None) -> None:
        """Write the changing fields of `agency` (and a new secret hash, when given)."""
        row = self.session.get(AgencyRow, agency.client_id)
        if row is None:
            raise LookupError(agency.client_id)
        row.last_used_at = agency.last_used_at
        row.revoked_at = agency.revoked_at
        row.locked_at = agency.locked_at
        row.failed_attempts = agency.failed_attempts
        row.first_failure_at = agency.first_failure_at
        if secret_hash is not None:
            row.secret_hash = secret_hash
        self.session.flush()
