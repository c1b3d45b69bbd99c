"""The directory: sites, teams, one-off contracts, the change history; new columns of clients, contacts,
equipment, contracts, prices, users and tokens

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:12:44.077517
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("record_key", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_record")),
    )
    with op.batch_alter_table("change_record", schema=None) as batch_op:
        batch_op.create_index("ix_change_record_kind_key", ["kind", "record_key", "id"], unique=False)

    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("classes", sa.String(length=200), nullable=False),
        sa.Column("partners_in_l3", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("code", name=op.f("uq_team_code")),
    )
    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("access_notes", sa.Text(), nullable=False),
        sa.Column("working_hours", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name=op.f("fk_site_client_id_client")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
        sa.UniqueConstraint("client_id", "code", name=op.f("uq_site_client_id_code")),
    )
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_client_id"), ["client_id"], unique=False)

    op.create_table(
        "contract_equipment",
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contract.id"],
            name=op.f("fk_contract_equipment_contract_id_contract"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"], ["equipment.id"], name=op.f("fk_contract_equipment_equipment_id_equipment")
        ),
        sa.PrimaryKeyConstraint("contract_id", "equipment_id", name=op.f("pk_contract_equipment")),
    )
    with op.batch_alter_table("contract_equipment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contract_equipment_equipment_id"), ["equipment_id"], unique=False)

    op.create_table(
        "one_off_contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("accepted_by", sa.String(length=200), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name=op.f("fk_one_off_contract_client_id_client")),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name=op.f("fk_one_off_contract_ticket_id_ticket")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_off_contract")),
        sa.UniqueConstraint("number", name=op.f("uq_one_off_contract_number")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_one_off_contract_ticket_id")),
    )
    with op.batch_alter_table("one_off_contract", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_one_off_contract_client_id"), ["client_id"], unique=False)

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default="cli"))
        batch_op.add_column(sa.Column("name", sa.String(length=120), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inn", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("sector", sa.String(length=20), nullable=False, server_default="other"))
        batch_op.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))

    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("position", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("language", sa.String(length=2), nullable=False, server_default="ru"))
        batch_op.add_column(sa.Column("portal_access", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))

    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parts_included", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=False, server_default="active"))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))

    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("installed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("warranty_ends_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=False, server_default="in_service"))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_index(batch_op.f("ix_equipment_site_id"), ["site_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_equipment_site_id_site"), "site", ["site_id"], ["id"])

    with op.batch_alter_table("price_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vendor", sa.String(length=80), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("model", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("valid_from", sa.Date(), nullable=False, server_default="2000-01-01"))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.drop_constraint(batch_op.f("uq_price_item_equipment_class_item"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_price_item_equipment_class_vendor_model_item_valid_from"),
            ["equipment_class", "vendor", "model", "item", "valid_from"],
        )

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("language", sa.String(length=2), nullable=False, server_default="ru"))
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), nullable=False, server_default="Europe/Moscow")
        )
        batch_op.add_column(sa.Column("partner", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))

    # Teams were only a naming convention of groups (`storage-L1`...): each becomes a team row.
    op.execute(
        "INSERT INTO team (code, name, classes, partners_in_l3, active, version) "
        "SELECT DISTINCT substr(name, 1, length(name) - 3), substr(name, 1, length(name) - 3), "
        "substr(name, 1, length(name) - 3), false, true, 1 FROM user_group WHERE name LIKE '%-L1'"
    )


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("password_hash")
        batch_op.drop_column("active")
        batch_op.drop_column("partner")
        batch_op.drop_column("time_zone")
        batch_op.drop_column("language")
        batch_op.drop_column("phone")

    with op.batch_alter_table("price_item", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_price_item_equipment_class_vendor_model_item_valid_from"), type_="unique"
        )
        batch_op.create_unique_constraint(batch_op.f("uq_price_item_equipment_class_item"), ["equipment_class", "item"])
        batch_op.drop_column("version")
        batch_op.drop_column("valid_from")
        batch_op.drop_column("model")
        batch_op.drop_column("vendor")

    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_equipment_site_id_site"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_equipment_site_id"))
        batch_op.drop_column("version")
        batch_op.drop_column("status")
        batch_op.drop_column("warranty_ends_on")
        batch_op.drop_column("installed_on")
        batch_op.drop_column("site_id")

    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("status")
        batch_op.drop_column("parts_included")

    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("active")
        batch_op.drop_column("portal_access")
        batch_op.drop_column("language")
        batch_op.drop_column("position")
        batch_op.drop_column("phone")

    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("notes")
        batch_op.drop_column("active")
        batch_op.drop_column("sector")
        batch_op.drop_column("inn")

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("name")
        batch_op.drop_column("kind")

    with op.batch_alter_table("one_off_contract", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_one_off_contract_client_id"))

    op.drop_table("one_off_contract")
    with op.batch_alter_table("contract_equipment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_equipment_equipment_id"))

    op.drop_table("contract_equipment")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_client_id"))

    op.drop_table("site")
    op.drop_table("team")
    with op.batch_alter_table("change_record", schema=None) as batch_op:
        batch_op.drop_index("ix_change_record_kind_key")

    op.drop_table("change_record")
