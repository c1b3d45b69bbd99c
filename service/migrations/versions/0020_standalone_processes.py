"""Processes beside the ticket flow: instances without a ticket (or belonging to one), their jobs and timers, the
timer start events of deployed versions, and planned preventive maintenance of contracts

Revision ID: 0020_standalone_processes
Revises: 0019_page_indexes
Create Date: 2026-12-01 20:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_standalone_processes"
down_revision = "0019_page_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("for_ticket_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("started_by", sa.String(length=80), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_process_instance_for_ticket_id_ticket"), "ticket", ["for_ticket_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_process_instance_for_ticket_id"), ["for_ticket_id"], unique=False)
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.alter_column("started_by", server_default=None)
        batch_op.alter_column("created_at", server_default=None)
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("due_timer", schema=None) as batch_op:
        batch_op.alter_column("instance_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("definition_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_due_timer_definition_id_process_definition",
            "process_definition",
            ["definition_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index("ix_due_timer_definition_id", ["definition_id"], unique=False)
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("instance_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_incident_instance_id_process_instance"),
            "process_instance",
            ["instance_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_incident_instance_id"), ["instance_id"], unique=False)
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.add_column(sa.Column("maintenance_every_months", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("maintenance_next_on", sa.Date(), nullable=True))
    op.create_table(
        "maintenance_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contract.id"], name=op.f("fk_maintenance_visit_contract_id_contract"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
            name=op.f("fk_maintenance_visit_equipment_id_equipment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_maintenance_visit_ticket_id_ticket"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_visit")),
        sa.UniqueConstraint(
            "contract_id", "equipment_id", "due_on", name=op.f("uq_maintenance_visit_contract_id_equipment_id_due_on")
        ),
    )
    op.create_index(op.f("ix_maintenance_visit_contract_id"), "maintenance_visit", ["contract_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_maintenance_visit_contract_id"), table_name="maintenance_visit")
    op.drop_table("maintenance_visit")
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_column("maintenance_next_on")
        batch_op.drop_column("maintenance_every_months")
    op.execute("DELETE FROM incident WHERE ticket_id IS NULL")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_instance_id"))
        batch_op.drop_constraint(batch_op.f("fk_incident_instance_id_process_instance"), type_="foreignkey")
        batch_op.drop_column("instance_id")
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=False)
    op.execute("DELETE FROM due_timer WHERE instance_id IS NULL OR ticket_id IS NULL")
    with op.batch_alter_table("due_timer", schema=None) as batch_op:
        batch_op.drop_index("ix_due_timer_definition_id")
        batch_op.drop_constraint("fk_due_timer_definition_id_process_definition", type_="foreignkey")
        batch_op.drop_column("definition_id")
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("instance_id", existing_type=sa.Integer(), nullable=False)
    op.execute("DELETE FROM job WHERE ticket_id IS NULL")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=False)
    op.execute("DELETE FROM process_instance WHERE ticket_id IS NULL")
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_instance_for_ticket_id"))
        batch_op.drop_constraint(batch_op.f("fk_process_instance_for_ticket_id_ticket"), type_="foreignkey")
        batch_op.drop_column("created_at")
        batch_op.drop_column("started_by")
        batch_op.drop_column("for_ticket_id")
        batch_op.alter_column("ticket_id", existing_type=sa.Integer(), nullable=False)
