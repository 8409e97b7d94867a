"""What an attacker who owns the database can do: lift the audit table's append-only guard.

The application cannot UPDATE or DELETE audit rows (triggers installed by the migrations);
a table owner can drop or disable those triggers, which is why the chain is also anchored by
signed checkpoints kept outside the database. Tamper tests go through `lifted_guard`, so they
attack the way such an owner would, not around the guard by accident.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

from scomm.store.db import Database

SQLITE_GUARD_TRIGGERS = ("audit_entries_no_update", "audit_entries_no_delete")


def lift_audit_guard(db: Database) -> None:
    """Drop (SQLite) or disable (PostgreSQL) the triggers that keep audit rows append-only."""
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
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
