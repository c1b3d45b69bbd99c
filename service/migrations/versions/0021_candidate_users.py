"""The candidate people of a task (camunda:candidateUsers), indexed by person with the task's id, and the task's
sla property (what makes its first touch the reaction)

Revision ID: 0021_candidate_users
Revises: 0020_standalone_processes
Create Date: 2026-12-01 20:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_candidate_users"
down_revision = "0020_standalone_processes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_candidate_user",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["user_task.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id", "username"),
    )
    op.create_index("ix_task_candidate_user_task", "task_candidate_user", ["username", "task_id"])
    op.add_column("user_task", sa.Column("sla", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column("user_task", "sla")
    op.drop_index("ix_task_candidate_user_task", table_name="task_candidate_user")
    op.drop_table("task_candidate_user")
