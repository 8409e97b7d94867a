"""USCIS benefit records (status currency), the rule set and officer decision of a detainer,
its withdrawal, and the id of an officer decision

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 07:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uscis_benefits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("a_number", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("receipt", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("uscis_benefits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_uscis_benefits_a_number"), ["a_number"], unique=False)
    with op.batch_alter_table("detainers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule_set", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("decision_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("officer_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("officer_decisions", schema=None) as batch_op:
        batch_op.drop_column("decision_id")
    with op.batch_alter_table("detainers", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("decision_id")
        batch_op.drop_column("rule_set")
    with op.batch_alter_table("uscis_benefits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uscis_benefits_a_number"))
    op.drop_table("uscis_benefits")
