"""callbacks: each agency's callback URL, allowed hosts and signing secret; the tasks
submitted over the service and their submitting agency; jails get the scopes to set their
callback and to redeliver

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NEW_SCOPES = " scomm.task.write scomm.callback.write"


def upgrade() -> None:
    op.create_table(
        "agency_callbacks",
        sa.Column(
            "client_id", sa.String(40), sa.ForeignKey("agencies.client_id"), primary_key=True
        ),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("allowed_hosts", sa.Text(), nullable=False),
        sa.Column("private_hosts", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "agency_tasks",
        sa.Column("task_id", sa.String(64), primary_key=True),
        sa.Column("tcn", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(40), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_agency_tasks_client_id", "agency_tasks", ["client_id"])
    # the jails that submit (the default jail scopes) may set their callback and redeliver
    op.execute(
        sa.text(
            "UPDATE agencies SET scopes = scopes || :new WHERE kind = 'jail'"
            " AND scopes LIKE '%scomm.transaction.write%'"
            " AND scopes NOT LIKE '%scomm.callback.write%'"
        ).bindparams(new=NEW_SCOPES)
    )


def downgrade() -> None:
    op.execute(
        sa.text("UPDATE agencies SET scopes = REPLACE(scopes, :new, '')").bindparams(new=NEW_SCOPES)
    )
    op.drop_index("ix_agency_tasks_client_id", table_name="agency_tasks")
    op.drop_table("agency_tasks")
    op.drop_table("agency_callbacks")
