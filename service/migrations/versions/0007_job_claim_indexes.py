"""Jobs: partial indexes for the claim (pending and running jobs) and for the sweep of finished ones

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_DUE = sa.text("status IN ('pending', 'running')")
_FINISHED = sa.text("status = 'done'")


def upgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index("ix_job_due")
        batch_op.create_index("ix_job_due", ["status", "run_after", "id"], unique=False, postgresql_where=_DUE)
        batch_op.create_index("ix_job_done", ["status", "updated_at", "id"], unique=False, postgresql_where=_FINISHED)


def downgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index("ix_job_done")
        batch_op.drop_index("ix_job_due")
        batch_op.create_index("ix_job_due", ["status", "run_after"], unique=False)
