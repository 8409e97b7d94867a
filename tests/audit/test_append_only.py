"""The application's connection cannot change or remove audit rows: the triggers of migration
0004 refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL); appending still works."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from tampering import tampering

from scomm.audit.chain import append, verify
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow

POSTGRES = os.environ.get("SCOMM_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'scomm.db'}"
    elif not POSTGRES:
        pytest.skip("SCOMM_TEST_POSTGRES_URL not set (CI runs these against a throwaway server)")
    else:
        url = POSTGRES
        fresh = Database(url)
        with fresh.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        fresh.dispose()
    database = Database(url)
    database.migrate()
    append_notes(database, 1, 3)
    yield database
    database.dispose()


def append_notes(db: Database, first: int, count: int) -> None:
    with db.sessions() as session:
        for i in range(first, first + count):
            append(
                session,
                recorded_at=datetime(2010, 1, 1, 0, i),
                kind="operation",
                name="NOTE",
                actor="operator",
                case_id="",
                payload={"n": i},
            )
        session.commit()


def snapshot(db: Database) -> list[tuple[int, str, str]]:
    with db.sessions() as session:
        rows = session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq))
        return [(r.seq, r.payload, r.entry_hash) for r in rows]


def refused(db: Database, statement: str | object) -> None:
    before = snapshot(db)
    with db.sessions() as session, pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement) if isinstance(statement, str) else statement)  # type: ignore[arg-type]
        session.commit()
    assert snapshot(db) == before


def test_an_update_is_refused_and_appends_go_on(db: Database) -> None:
    refused(db, update(AuditEntryRow).where(AuditEntryRow.seq == 2).values(payload='{"n":20}'))
    append_notes(db, 4, 2)  # the head row moves as before
    with db.sessions() as session:
        result = verify(session)
    assert result.ok and result.entries == 5


def test_a_delete_is_refused(db: Database) -> None:
    refused(db, delete(AuditEntryRow).where(AuditEntryRow.seq == 3))
    refused(db, "DELETE FROM audit_log")


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)  # SQLite has no TRUNCATE
def test_a_truncate_is_refused_on_postgresql(db: Database) -> None:
    assert db.engine.dialect.name == "postgresql"
    refused(db, "TRUNCATE audit_log")


def test_the_tamper_helper_lifts_exactly_this_guard(db: Database) -> None:
    """tests/audit/tampering.py undoes what the migration installs, as a table owner could."""
    with tampering(db) as session:
        session.execute(update(AuditEntryRow).where(AuditEntryRow.seq == 2).values(name="X"))
    with db.sessions() as session:
        result = verify(session)
    assert not result.ok and result.first_bad_seq == 2
