"""audit_log.kind is indexed: the flow reads the switch settings from their audit entries
(kind "switch"), the audited path, instead of from the switch_settings rows

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_kind", "audit_log", ["kind"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_kind", table_name="audit_log")
