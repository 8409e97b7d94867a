"""Agencies as principals: secrets only as hashes, the kinds' rules, the AC-7 lockout, and an
audit entry for every change and every authentication (never the secret)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from scomm.domain.agencies import (
    TRANSACTION_WRITE,
    AgencyKind,
    InvalidAgency,
)
from scomm.services import agencies
from scomm.services.agencies import AgencyRefused, AuthenticationFailed
from scomm.store.db import Database
from scomm.store.models import AgencyRow, AuditEntryRow

T0 = datetime(2026, 12, 7, 10, 0)


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    database.migrate()
    return database


def audit(db: Database) -> list[tuple[str, str, dict[str, object]]]:
    with db.sessions() as session:
        rows = session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq))
        return [(r.kind, r.name, json.loads(r.payload)) for r in rows]


def test_a_jail_gets_its_kinds_scopes_and_its_secret_is_kept_only_as_a_hash(db: Database) -> None:
    made = agencies.add_agency(
        db, T0, client_id="jail-ca0010000", kind=AgencyKind.JAIL, name="Alder County",
        scope_value="CA0010000", serve=True,
    )  # fmt: skip
    assert TRANSACTION_WRITE in made.agency.scopes and made.agency.ori == "CA0010000"
    with db.sessions() as session:
        row = session.get(AgencyRow, "jail-ca0010000")
        assert row is not None and row.secret_hash.startswith("$argon2id$")
        assert made.secret not in row.secret_hash
    entries = audit(db)
    assert [(k, n) for k, n, _ in entries] == [
        ("agency", "JURISDICTION_ADDED"), ("agency", "AGENCY_ADDED"),
    ]  # fmt: skip
    assert made.secret not in json.dumps(entries)
    assert agencies.authenticate(db, T0, "jail-ca0010000", made.secret, "10.0.0.1").kind == "jail"


@pytest.mark.parametrize(
    ("kind", "value"),
    [(AgencyKind.JAIL, None), (AgencyKind.BUREAU, "california"), (AgencyKind.CJIS, "CA")],
)
def test_each_kind_takes_its_own_scope_value(
    db: Database, kind: AgencyKind, value: str | None
) -> None:
    with pytest.raises(InvalidAgency):
        agencies.add_agency(db, T0, client_id="x-agency", kind=kind, name="", scope_value=value)


def test_a_jail_must_be_a_served_jurisdiction(db: Database) -> None:
    with pytest.raises(AgencyRefused, match="--serve"):
        agencies.add_agency(
            db, T0, client_id="jail-x", kind=AgencyKind.JAIL, name="", scope_value="CA0010000"
        )
    assert audit(db) == []


def test_a_client_id_is_taken_once(db: Database) -> None:
    agencies.add_agency(db, T0, client_id="lesc", kind=AgencyKind.LESC, name="LESC")
    with pytest.raises(AgencyRefused):
        agencies.add_agency(db, T0, client_id="lesc", kind=AgencyKind.LESC, name="LESC")


def test_five_failures_in_15_minutes_lock_until_an_operator_releases(db: Database) -> None:
    made = agencies.add_agency(db, T0, client_id="lesc", kind=AgencyKind.LESC, name="LESC")
    for minute in range(5):
        with pytest.raises(AuthenticationFailed) as failed:
            agencies.authenticate(db, T0 + timedelta(minutes=minute), "lesc", "wrong", "10.0.0.9")
        assert failed.value.outcome == "bad-secret"
    with pytest.raises(AuthenticationFailed) as locked:  # the right secret no longer helps
        agencies.authenticate(db, T0 + timedelta(hours=5), "lesc", made.secret, "10.0.0.9")
    assert locked.value.outcome == "locked"
    agencies.release_agency(db, T0 + timedelta(hours=6), "lesc")
    assert agencies.authenticate(db, T0 + timedelta(hours=6), "lesc", made.secret, "10.0.0.9")
    names = [n for _, n, _ in audit(db)]
    assert names.count("AUTH_FAILED") == 6 and "AGENCY_LOCKED" in names
    assert names[-2:] == ["AGENCY_RELEASED", "TOKEN_ISSUED"]
    failed_entry = next(p for _, n, p in audit(db) if n == "AUTH_FAILED")
    assert failed_entry == {"client_id": "lesc", "remote": "10.0.0.9", "outcome": "bad-secret"}


def test_failures_spread_over_more_than_15_minutes_do_not_lock(db: Database) -> None:
    made = agencies.add_agency(db, T0, client_id="lesc", kind=AgencyKind.LESC, name="LESC")
    for attempt in range(6):
        with pytest.raises(AuthenticationFailed):
            agencies.authenticate(db, T0 + timedelta(minutes=4 * attempt), "lesc", "no", "a")
    assert agencies.authenticate(db, T0 + timedelta(minutes=30), "lesc", made.secret, "a")


def test_rotate_and_revoke(db: Database) -> None:
    old = agencies.add_agency(db, T0, client_id="ident", kind=AgencyKind.IDENT, name="IDENT")
    new = agencies.rotate_secret(db, T0, "ident")
    with pytest.raises(AuthenticationFailed):
        agencies.authenticate(db, T0, "ident", old.secret, "a")
    assert agencies.authenticate(db, T0, "ident", new.secret, "a")
    agencies.revoke_agency(db, T0, "ident")
    with pytest.raises(AuthenticationFailed) as revoked:
        agencies.authenticate(db, T0, "ident", new.secret, "a")
    assert revoked.value.outcome == "revoked"
    with pytest.raises(AuthenticationFailed) as unknown:
        agencies.authenticate(db, T0, "nobody", new.secret, "a")
    assert unknown.value.outcome == "unknown-client"
    with pytest.raises(AgencyRefused):
        agencies.rotate_secret(db, T0, "nobody")
    assert [n for k, n, _ in audit(db) if k == "agency"] == [
        "AGENCY_ADDED", "AGENCY_ROTATED", "AGENCY_REVOKED",
    ]  # fmt: skip
