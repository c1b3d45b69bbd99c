"""Tickets imported from the old system keep its number: a nullable unique external reference

Revision ID: 0010_ticket_external_ref
Revises: 0009_signin
Create Date: 2026-12-01 14:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_ticket_external_ref"
down_revision = "0009_signin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ticket", sa.Column("external_ref", sa.String(length=40), nullable=True))
    op.create_index(op.f("ix_ticket_external_ref"), "ticket", ["external_ref"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_external_ref"), table_name="ticket")
    op.drop_column("ticket", "external_ref")
