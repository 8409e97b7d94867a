"""callbacks: each agency's callback URL, allowed hosts and signing secret; the tasks
submitted over the service and their submitting agency; agencies of the kinds that the
service's new routes serve get those routes' scopes (jails: callbacks, redelivery, booking
reports; LESC: IAQ/IAR reads; ERO: the match queue and decisions)

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

# the scopes each kind's agencies get, where they hold the first scope named (the kind's
# defaults: an agency given narrower scopes by its operator keeps them)
NEW_SCOPES = {
    "jail": (
        "scomm.transaction.write",
        " scomm.task.write scomm.callback.write scomm.booking.write",
    ),
    "lesc": ("scomm.transaction.read", " scomm.iaq.read scomm.iar.read"),
    "ero": (
        "scomm.transaction.read",
        " scomm.match.read scomm.decision.read scomm.decision.write",
    ),
}


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
    for kind, (holding, new) in NEW_SCOPES.items():
        op.execute(
            sa.text(
                "UPDATE agencies SET scopes = scopes || :new WHERE kind = :kind"
                " AND scopes LIKE :holding AND scopes NOT LIKE :first"
            ).bindparams(new=new, kind=kind, holding=f"%{holding}%", first=f"%{new.split()[0]}%")
        )


def downgrade() -> None:
    for kind, (_, new) in NEW_SCOPES.items():
        op.execute(
            sa.text(
                "UPDATE agencies SET scopes = REPLACE(scopes, :new, '') WHERE kind = :kind"
            ).bindparams(new=new, kind=kind)
        )
    op.drop_index("ix_agency_tasks_client_id", table_name="agency_tasks")
    op.drop_table("agency_tasks")
    op.drop_table("agency_callbacks")
