"""Timers: the due-timer table of the timer events instances wait on, fired by the worker

Revision ID: 0015_timers
Revises: 0014_segment_pause
Create Date: 2026-12-01 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_timers"
down_revision = "0014_segment_pause"
branch_labels = None
depends_on = None

_WAITING = sa.text("state = 'waiting'")


def upgrade() -> None:
    op.create_table(
        "due_timer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("element_id", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("fired_count", sa.Integer(), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id"),
    )
    op.create_index("ix_due_timer_instance_id", "due_timer", ["instance_id"], unique=False)
    op.create_index("ix_due_timer_ticket_id", "due_timer", ["ticket_id"], unique=False)
    op.create_index("ix_due_timer_due", "due_timer", ["state", "due_at", "id"], unique=False, postgresql_where=_WAITING)


def downgrade() -> None:
    op.drop_index("ix_due_timer_due", table_name="due_timer")
    op.drop_index("ix_due_timer_ticket_id", table_name="due_timer")
    op.drop_index("ix_due_timer_instance_id", table_name="due_timer")
    op.drop_table("due_timer")
