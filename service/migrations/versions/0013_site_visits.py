"""Site visits: an engineer's check-in and check-out on a task, with the time entry the check-out writes

Revision ID: 0013_site_visits
Revises: 0012_incidents
Create Date: 2026-12-01 17:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_site_visits"
down_revision = "0012_incidents"
branch_labels = None
depends_on = None

_OPEN = sa.text("checked_out_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "site_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("engineer", sa.String(length=80), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("in_lat", sa.Float(), nullable=True),
        sa.Column("in_lon", sa.Float(), nullable=True),
        sa.Column("out_lat", sa.Float(), nullable=True),
        sa.Column("out_lon", sa.Float(), nullable=True),
        sa.Column("time_entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["time_entry_id"], ["time_entry.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_site_visit_ticket_id", "site_visit", ["ticket_id"], unique=False)
    op.create_index("ix_site_visit_task", "site_visit", ["task_id", "engineer"], unique=False)
    op.create_index(
        "ux_site_visit_open",
        "site_visit",
        ["task_id", "engineer"],
        unique=True,
        postgresql_where=_OPEN,
        sqlite_where=_OPEN,
    )


def downgrade() -> None:
    op.drop_index("ux_site_visit_open", table_name="site_visit")
    op.drop_index("ix_site_visit_task", table_name="site_visit")
    op.drop_index("ix_site_visit_ticket_id", table_name="site_visit")
    op.drop_table("site_visit")
