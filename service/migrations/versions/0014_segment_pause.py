"""SLA segments say why the clocks pause in them, as the diagram's open task declared it

Revision ID: 0014_segment_pause
Revises: 0013_site_visits
Create Date: 2026-12-01 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_segment_pause"
down_revision = "0013_site_visits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sla_segment") as batch_op:
        batch_op.add_column(sa.Column("pause", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sla_segment") as batch_op:
        batch_op.drop_column("pause")
