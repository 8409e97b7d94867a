"""The audit table is append-only for the application (triggers refuse UPDATE, DELETE and,
on PostgreSQL, TRUNCATE of audit rows), and each outbox row keeps the seq of the audit entry
that records its message (outbox.audit_seq), so a delivery can check its payload against it

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MESSAGE = "audit entries are append-only"
# tests/audit/tampering.py lifts exactly these (drops them on SQLite, disables them on
# PostgreSQL) to attack the chain the way the database's owner could.
SQLITE_TRIGGERS = {
    "audit_entries_no_update": "UPDATE",
    "audit_entries_no_delete": "DELETE",
}
PG_FUNCTION = "audit_entries_append_only"
PG_ROW_TRIGGER = "audit_entries_no_change"
PG_TRUNCATE_TRIGGER = "audit_entries_no_truncate"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audit_seq", sa.Integer(), nullable=True))
    _bind_undelivered_rows()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {PG_ROW_TRIGGER} BEFORE UPDATE OR DELETE ON audit_log "
            f"FOR EACH ROW EXECUTE PROCEDURE {PG_FUNCTION}()"
        )
        op.execute(
            f"CREATE TRIGGER {PG_TRUNCATE_TRIGGER} BEFORE TRUNCATE ON audit_log "
            f"FOR EACH STATEMENT EXECUTE PROCEDURE {PG_FUNCTION}()"
        )
    else:
        for name, event in SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def _bind_undelivered_rows() -> None:
    """Rows queued before this revision (pending or dead, so still deliverable) get the seq
    of their message's audit entry; that entry has no payload_sha256, and the dispatcher
    compares the audited body with the payload instead."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT message_id, seq FROM outbox WHERE status <> 'delivered'"))
    waiting: dict[str, int] = {message_id: seq for message_id, seq in rows}
    if not waiting:
        return
    found: dict[str, int] = {}
    for seq, payload in bind.execute(
        sa.text("SELECT seq, payload FROM audit_log WHERE kind = 'message' ORDER BY seq")
    ):
        message_id = json.loads(payload).get("message_id")
        if message_id in waiting:
            found.setdefault(message_id, seq)
    for message_id, audit_seq in found.items():
        bind.execute(
            sa.text("UPDATE outbox SET audit_seq = :audit_seq WHERE seq = :seq"),
            {"audit_seq": audit_seq, "seq": waiting[message_id]},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {PG_TRUNCATE_TRIGGER} ON audit_log")
        op.execute(f"DROP TRIGGER IF EXISTS {PG_ROW_TRIGGER} ON audit_log")
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("audit_seq")
