"""External tasks: jobs of topics left to outside workers, their retries, and the topics a worker account serves

Revision ID: 0016_external_tasks
Revises: 0015_timers
Create Date: 2026-12-01 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_external_tasks"
down_revision = "0015_timers"
branch_labels = None
depends_on = None

_DUE_BEFORE = sa.text("status IN ('pending', 'running')")
_DUE = sa.text("status IN ('pending', 'running') AND external = false")
_EXTERNAL_DUE = sa.text("status IN ('pending', 'running') AND external = true")


def upgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("retries", sa.Integer(), nullable=True))
        batch_op.drop_index("ix_job_due")
        batch_op.create_index("ix_job_due", ["status", "run_after", "id"], unique=False, postgresql_where=_DUE)
        batch_op.create_index("ix_job_external", ["run_after", "id"], unique=False, postgresql_where=_EXTERNAL_DUE)
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker_topics", sa.String(length=1000), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("worker_topics")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index("ix_job_external")
        batch_op.drop_index("ix_job_due")
        batch_op.create_index("ix_job_due", ["status", "run_after", "id"], unique=False, postgresql_where=_DUE_BEFORE)
        batch_op.drop_column("retries")
        batch_op.drop_column("external")
