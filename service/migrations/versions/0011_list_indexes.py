"""Lists: compound indexes for keyset paging of tickets, breach reviews, time entries and incidents

Revision ID: 0011_list_indexes
Revises: 0010_ticket_external_ref
Create Date: 2026-12-01 14:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_list_indexes"
down_revision = "0010_ticket_external_ref"
branch_labels = None
depends_on = None

_FAILED = sa.text("status = 'failed'")

INDEXES = (
    ("ticket", "ix_ticket_created_id", ["created_at", "id"]),
    ("ticket", "ix_ticket_status_created_id", ["status", "created_at", "id"]),
    ("ticket", "ix_ticket_client_created_id", ["client_id", "created_at", "id"]),
    ("ticket", "ix_ticket_team_created_id", ["team", "created_at", "id"]),
    ("sla_breach_review", "ix_breach_review_state_created_id", ["state", "created_at", "id"]),
    ("sla_breach_review", "ix_breach_review_created_id", ["created_at", "id"]),
    ("time_entry", "ix_time_entry_day_id", ["day", "id"]),
    ("time_entry", "ix_time_entry_engineer_day_id", ["engineer", "day", "id"]),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.create_index("ix_job_failed", "job", ["id"], unique=False, postgresql_where=_FAILED)


def downgrade() -> None:
    op.drop_index("ix_job_failed", table_name="job")
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
