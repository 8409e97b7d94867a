"""Switch settings carry the seq of the audit entry that records them (the flow honours a
setting only through that entry); rows written before are linked to their entries where
the entry agrees with the row

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The tables as this revision knows them (the models may move on).
settings = sa.table(
    "switch_settings",
    sa.column("id", sa.Integer()),
    sa.column("ori", sa.String()),
    sa.column("switch", sa.String()),
    sa.column("enabled", sa.Boolean()),
    sa.column("effective_from", sa.DateTime()),
    sa.column("effective_to", sa.DateTime()),
    sa.column("changed_by", sa.String()),
    sa.column("reason", sa.Text()),
    sa.column("audit_seq", sa.Integer()),
)
audit = sa.table(
    "audit_log",
    sa.column("seq", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("name", sa.String()),
    sa.column("actor", sa.String()),
    sa.column("payload", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("switch_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audit_seq", sa.Integer(), nullable=True))
    backfill(op.get_bind())


def backfill(connection: sa.Connection) -> None:
    """Link each existing setting to the switch entry that names its id, when the entry
    agrees with the row; a row with no such entry keeps no seq (and is not honoured)."""
    entries: dict[int, tuple[int, str, str, dict[str, Any]]] = {}
    query = sa.select(audit.c.seq, audit.c.name, audit.c.actor, audit.c.payload).where(
        audit.c.kind == "switch"
    )
    for seq, name, actor, text in connection.execute(query):
        try:
            payload = json.loads(text)
            entries.setdefault(int(payload["setting_id"]), (seq, name, actor, payload))
        except (ValueError, KeyError, TypeError):
            continue
    for row in connection.execute(sa.select(settings)).mappings().all():
        found = entries.get(row["id"])
        if found is not None and _agrees(row, *found[1:]):
            connection.execute(
                settings.update().where(settings.c.id == row["id"]).values(audit_seq=found[0])
            )


def _agrees(row: sa.RowMapping, name: str, actor: str, payload: dict[str, Any]) -> bool:
    def moment(value: Any) -> datetime | None:
        return None if value is None else datetime.fromisoformat(str(value)).replace(tzinfo=None)

    try:
        return (
            name == f"SWITCH_{row['switch']}"
            and actor == row["changed_by"]
            and payload.get("ori") == row["ori"]
            and payload.get("enabled") == bool(row["enabled"])
            and moment(payload.get("effective_from")) == row["effective_from"]
            and moment(payload.get("effective_to")) == row["effective_to"]
            and payload.get("reason") == row["reason"]
        )
    except ValueError:
        return False


def downgrade() -> None:
    with op.batch_alter_table("switch_settings", schema=None) as batch_op:
        batch_op.drop_column("audit_seq")
