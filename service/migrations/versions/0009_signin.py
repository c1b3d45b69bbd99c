"""Signing in: failed sign-ins counted per username and address, single-use password-reset and invitation links

Revision ID: 0009_signin
Revises: 0008
Create Date: 2026-12-01 13:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_signin"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=254), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.create_index("ix_login_failure_scope_key_at", ["scope", "key", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_failure_at"), ["at"], unique=False)

    op.create_table(
        "signin_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_signin_link_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_link")),
        sa.UniqueConstraint("digest", name=op.f("uq_signin_link_digest")),
    )
    with op.batch_alter_table("signin_link", schema=None) as batch_op:
        batch_op.create_index("ix_signin_link_unsent", ["mailed_at", "run_after"], unique=False)
        batch_op.create_index(batch_op.f("ix_signin_link_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signin_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signin_link_user_id"))
        batch_op.drop_index("ix_signin_link_unsent")

    op.drop_table("signin_link")
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failure_at"))
        batch_op.drop_index("ix_login_failure_scope_key_at")

    op.drop_table("login_failure")
