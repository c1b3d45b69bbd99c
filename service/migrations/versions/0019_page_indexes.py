"""Indexes of the pages at a real company's size: the open tickets, the running clocks by deadline, the hours of a
period per engineer and the compliance of a period from the index alone, and a queue's candidates with their tasks' ids

Revision ID: 0019_page_indexes
Revises: 0018_saved_filters
Create Date: 2026-12-01 19:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_page_indexes"
down_revision = "0018_saved_filters"
branch_labels = None
depends_on = None

OPEN_TICKETS = "status NOT IN ('closed', 'declined')"
RUNNING = "stopped_at IS NULL"
REPORT_COLUMNS = ["kind", "state", "stopped_at", "due_at", "elapsed_seconds"]


def upgrade() -> None:
    op.create_index(
        "ix_ticket_open",
        "ticket",
        ["team", "level", "status"],
        postgresql_where=sa.text(OPEN_TICKETS),
        sqlite_where=sa.text(OPEN_TICKETS),
    )
    op.create_index(
        "ix_sla_clock_running_due",
        "sla_clock",
        ["due_at", "id"],
        postgresql_where=sa.text(RUNNING),
        sqlite_where=sa.text(RUNNING),
    )
    op.drop_index("ix_sla_clock_report", table_name="sla_clock")
    op.create_index("ix_sla_clock_report", "sla_clock", ["started_at", "client_id"], postgresql_include=REPORT_COLUMNS)
    op.create_index("ix_time_entry_day_hours", "time_entry", ["day", "engineer", "hours"])
    op.drop_index("ix_time_entry_day", table_name="time_entry")
    op.create_index("ix_task_candidate_group_task", "task_candidate", ["group_name", "task_id"])
    op.drop_index("ix_task_candidate_group_name", table_name="task_candidate")


def downgrade() -> None:
    op.create_index("ix_task_candidate_group_name", "task_candidate", ["group_name"])
    op.drop_index("ix_task_candidate_group_task", table_name="task_candidate")
    op.create_index("ix_time_entry_day", "time_entry", ["day", "engineer"])
    op.drop_index("ix_time_entry_day_hours", table_name="time_entry")
    op.drop_index("ix_sla_clock_report", table_name="sla_clock")
    op.create_index("ix_sla_clock_report", "sla_clock", ["started_at", "client_id"])
    op.drop_index("ix_sla_clock_running_due", table_name="sla_clock")
    op.drop_index("ix_ticket_open", table_name="ticket")
