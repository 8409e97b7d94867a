"""gallery generations: a counter per repository that dates gallery snapshots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 05:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gallery_generations",
        sa.Column("repository", sa.String(length=12), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("repository"),
    )


def downgrade() -> None:
    op.drop_table("gallery_generations")
