"""Saved filters: a person's named inbox filters

Revision ID: 0018_saved_filters
Revises: 0017_completion_keys
Create Date: 2026-12-01 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_saved_filters"
down_revision = "0017_completion_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_filter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_saved_filter_name", "saved_filter", ["user_id", "name"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_saved_filter_name", table_name="saved_filter")
    op.drop_table("saved_filter")
