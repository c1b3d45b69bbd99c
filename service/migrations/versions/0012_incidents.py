"""Incidents: failed steps and failed jobs in one table, each stopping its ticket until a person resolves it

Revision ID: 0012_incidents
Revises: 0011_list_indexes
Create Date: 2026-12-01 17:00:00.000000

The failed jobs already there become open incidents of the job kind.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_incidents"
down_revision = "0011_list_indexes"
branch_labels = None
depends_on = None

_OPEN = sa.text("state = 'open'")


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("element_id", sa.String(length=120), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("process", sa.String(length=120), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("previous_status", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_ticket_id", "incident", ["ticket_id"], unique=False)
    op.create_index("ix_incident_job_id", "incident", ["job_id"], unique=False)
    op.create_index("ix_incident_open", "incident", ["id"], unique=False, postgresql_where=_OPEN)
    op.execute(
        "INSERT INTO incident (ticket_id, job_id, kind, detail, element_id, last_error, state, created_at,"
        " created_by, updated_at)"
        " SELECT ticket_id, id, 'job', '{}', element_id, COALESCE(last_error, ''), 'open', updated_at, 'worker',"
        " updated_at FROM job WHERE status = 'failed' ORDER BY id"
    )


def downgrade() -> None:
    op.drop_index("ix_incident_open", table_name="incident")
    op.drop_index("ix_incident_job_id", table_name="incident")
    op.drop_index("ix_incident_ticket_id", table_name="incident")
    op.drop_table("incident")
