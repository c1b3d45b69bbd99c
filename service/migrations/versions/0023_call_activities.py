"""Call activities: each deployed version records which deployed version each of its call activities runs

Revision ID: 0023_call_activities
Revises: 0021_candidate_users
Create Date: 2026-12-01 20:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_call_activities"
down_revision = "0021_candidate_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty: the version calls nothing, as every version deployed before call activities.
    op.add_column("process_definition", sa.Column("calls", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("process_definition") as batch:
        batch.drop_column("calls")
