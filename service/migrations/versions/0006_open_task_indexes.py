"""The inbox: partial indexes on the open tasks, by creation and by due time, in place of the one on state

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPEN = sa.text("state = 'open'")
ASSIGNED = sa.text("state = 'open' AND assignee IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("user_task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_user_task_open_created", ["created_at", "id"], postgresql_where=OPEN, sqlite_where=OPEN
        )
        batch_op.create_index("ix_user_task_open_due", ["due_at", "id"], postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.create_index(
            "ix_user_task_open_assignee", ["assignee"], postgresql_where=ASSIGNED, sqlite_where=ASSIGNED
        )
        batch_op.drop_index("ix_user_task_state")


def downgrade() -> None:
    with op.batch_alter_table("user_task", schema=None) as batch_op:
        batch_op.create_index("ix_user_task_state", ["state"], unique=False)
        batch_op.drop_index("ix_user_task_open_assignee")
        batch_op.drop_index("ix_user_task_open_due")
        batch_op.drop_index("ix_user_task_open_created")
