"""What an attacker who owns the database can do: lift the audit table's append-only guard.

The application cannot UPDATE or DELETE audit rows (triggers installed by the migrations);
a table owner can drop or disable those triggers, which is why the chain is also anchored by
signed checkpoints kept outside the database. Tamper tests go through `lifted_guard`, so they
attack the way such an owner would, not around the guard by accident.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from scomm.audit.chain import entry_hash
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, AuditHeadRow

SQLITE_GUARD_TRIGGERS = ("audit_entries_no_update", "audit_entries_no_delete")


def lift_audit_guard(db: Database) -> None:
    """Drop (SQLite) or disable (PostgreSQL) the triggers that keep audit rows append-only."""
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            table = AuditEntryRow.__tablename__  # audit_log
            connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            for name in SQLITE_GUARD_TRIGGERS:
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


@contextmanager
def tampering(db: Database) -> Iterator[Session]:
    """A session, with the guard lifted, whose changes commit when the block ends."""
    lift_audit_guard(db)
    with db.sessions() as session, session.begin():
        yield session


def raw(session: Session, sql: str, **params: object) -> None:
    session.execute(text(sql), params)


def rehash_from(session: Session, seq: int) -> None:
    """Every hash from entry `seq` on recomputed and the head moved to the last: a changed
    chain that the plain walk finds intact (what only the signed checkpoints catch)."""
    rows = session.scalars(
        select(AuditEntryRow).where(AuditEntryRow.seq >= seq).order_by(AuditEntryRow.seq)
    ).all()
    previous = rows[0].prev_hash
    for row in rows:
        row.prev_hash = previous
        row.entry_hash = entry_hash(
            previous, row.seq, row.recorded_at, row.kind, row.name, row.actor,
            row.case_id, row.payload,
        )  # fmt: skip
        previous = row.entry_hash
    head = session.get(AuditHeadRow, 1)
    assert head is not None
    head.entry_hash = previous


def rewrite_and_rehash(db: Database, seq: int) -> None:
    """IDR_NO_MATCH -> IDR_MATCH at entry `seq`, every later hash recomputed, the head
    moved (the issue's first attack)."""
    with tampering(db) as session:
        entry = session.get(AuditEntryRow, seq)
        assert entry is not None
        entry.name = "IDR_MATCH"
        rehash_from(session, seq)
