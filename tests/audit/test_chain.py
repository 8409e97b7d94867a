import os
from datetime import datetime

import pytest
from sqlalchemy import delete, text, update
from tampering import tampering

from scomm.audit.chain import append, consistent_snapshot, verify, verify_database
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    database.migrate()
    with database.sessions() as session:
        for i in range(1, 11):
            append(
                session,
                recorded_at=datetime(2010, 1, 1, 0, i),
                kind="message",
                name="CAR",
                actor="lea",
                case_id=f"case-{i}",
                payload={"n": i},
            )
        session.commit()
    return database


def test_an_untouched_chain_verifies(db: Database) -> None:
    with db.sessions() as session:
        result = verify(session, batch=3)
    assert result.ok and result.entries == 10


def test_a_changed_payload_is_named(db: Database) -> None:
    with tampering(db) as session:
        session.execute(
            update(AuditEntryRow).where(AuditEntryRow.seq == 4).values(payload='{"n":40}')
        )
    with db.sessions() as session:
        result = verify(session)
    assert not result.ok and result.first_bad_seq == 4 and "changed" in result.problem


def test_a_deleted_entry_is_named(db: Database) -> None:
    with tampering(db) as session:
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq == 6))
    with db.sessions() as session:
        result = verify(session)
    assert not result.ok and result.first_bad_seq == 6 and "missing" in result.problem


def test_deleting_the_last_entry_is_caught_by_the_head(db: Database) -> None:
    with tampering(db) as session:
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq == 10))
    with db.sessions() as session:
        result = verify(session)
    assert not result.ok and result.first_bad_seq == 10


def test_rehashing_a_changed_entry_still_breaks_the_next_link(db: Database) -> None:
    from scomm.audit.chain import entry_hash

    with tampering(db) as session:
        row = session.get(AuditEntryRow, 3)
        assert row is not None
        row.payload = '{"n":300}'
        row.entry_hash = entry_hash(
            row.prev_hash,
            row.seq,
            row.recorded_at,
            row.kind,
            row.name,
            row.actor,
            row.case_id,
            row.payload,
        )
    with db.sessions() as session:
        result = verify(session)
    assert not result.ok and result.first_bad_seq == 4


def _append_elsewhere(db: Database, first: int, count: int) -> None:
    """Another writer (its own connection) appends `count` entries and commits."""
    with db.sessions() as session:
        for i in range(first, first + count):
            append(
                session,
                recorded_at=datetime(2010, 1, 2, 0, i),
                kind="message",
                name="SRE",
                actor="cjis",
                case_id=f"case-{i}",
                payload={"n": i},
            )
        session.commit()


def _snapshot_sees_one_moment(db: Database) -> None:
    with consistent_snapshot(db) as session:
        assert verify(session).entries == 10  # the snapshot starts with this first read
        _append_elsewhere(db, 11, 3)  # commits while the verify's snapshot is open
        again = verify(session)
    assert again.ok and again.entries == 10  # neither the new entries nor the moved head
    assert verify_database(db).entries == 13  # a new snapshot sees them all, intact


def test_a_verify_beside_a_writer_sees_one_moment(db: Database) -> None:
    _snapshot_sees_one_moment(db)


@pytest.mark.skipif(
    not os.environ.get("SCOMM_TEST_POSTGRES_URL"),
    reason="SCOMM_TEST_POSTGRES_URL not set (CI runs these against a throwaway server)",
)
def test_a_verify_beside_a_writer_sees_one_moment_on_postgresql() -> None:
    database = Database(os.environ["SCOMM_TEST_POSTGRES_URL"])
    with database.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    database.migrate()
    _append_elsewhere(database, 1, 10)
    try:
        _snapshot_sees_one_moment(database)
    finally:
        database.dispose()
