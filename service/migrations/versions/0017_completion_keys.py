"""Completion keys: a task completion sent again with its Idempotency-Key answers what the first one did

Revision ID: 0017_completion_keys
Revises: 0016_external_tasks
Create Date: 2026-12-01 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_completion_keys"
down_revision = "0016_external_tasks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "completion_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_completion_key_ticket_id_ticket"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_completion_key_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completion_key")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_completion_key_user_id_key")),
    )


def downgrade() -> None:
    op.drop_table("completion_key")
