"""Idempotency keys keep a fingerprint of the request, and are stored before the ticket they name

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_key WHERE ticket_id IS NULL")
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("fingerprint")
