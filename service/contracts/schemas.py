"""The contracts' contract."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.clients.schemas import CODE
from service.directory.schemas import ListArgsSchema, page_of
from service.equipment.schemas import CLASS_DESCRIPTION, SERIAL
from service.fields import Choice, Code, Day, Int
from service.teams.schemas import CLASS

ACTIVE = "active"
#: Only an active contract entitles; suspended and terminated ones are kept for the record.
STATUSES = (ACTIVE, "suspended", "terminated")
#: At most this many items named one by one in one contract.
MAX_ITEMS = 1000


MAINTENANCE = "Planned preventive maintenance every so many months (a ticket per covered item); null: none."
NEXT_MAINTENANCE = "When maintenance is next due (null: from the contract's start); each run moves it on."


def _term_in_order(data: dict[str, Any]) -> None:
    starts, ends = data.get("starts_on"), data.get("ends_on")
    if starts is not None and ends is not None and ends < starts:
        raise ValidationError("the contract cannot end before it starts", "ends_on")


class ContractSchema(Schema):
    """A contract as the API shows it."""

    number = fields.String()
    client = fields.Function(lambda contract: contract.client.code)
    starts_on = fields.Date()
    ends_on = fields.Date()
    covers = fields.List(
        fields.String(), attribute="covered_classes", metadata={"description": "The equipment classes covered."}
    )
    items = fields.List(
        fields.String(),
        attribute="item_serials",
        metadata={"description": "Serials of the client's equipment covered one by one (whatever their class)."},
    )
    service_level = fields.String(metadata={"description": "The name of a service level, or empty."})
    parts_included = fields.Boolean()
    status = fields.String(metadata={"description": "active, suspended or terminated; only active entitles."})
    maintenance_every_months = fields.Integer(
        allow_none=True, metadata={"description": "Planned preventive maintenance every so many months; null: none."}
    )
    maintenance_next_on = fields.Date(allow_none=True, metadata={"description": "When maintenance is next due."})


class ContractCreateSchema(Schema):
    """A new contract of a client."""

    number = Code(required=True, validate=CODE)
    client = Code(required=True, validate=CODE, metadata={"description": "The client's code."})
    starts_on = Day(required=True)
    ends_on = Day(required=True, metadata={"description": "Not before starts_on."})
    covers = fields.List(
        Code(max_length=40, validate=CLASS, metadata={"description": CLASS_DESCRIPTION}),
        load_default=list,
        metadata={"description": "Equipment classes covered."},
    )
    items = fields.List(
        Code(validate=SERIAL),
        load_default=list,
        validate=validate.Length(max=MAX_ITEMS),
        metadata={"description": f"Serials of the client's equipment covered one by one (at most {MAX_ITEMS})."},
    )
    service_level = Code(max_length=40, load_default="", metadata={"description": "A service level's name, or empty."})
    parts_included = fields.Boolean(load_default=False)
    status = Choice(STATUSES, load_default=ACTIVE)
    maintenance_every_months = Int(minimum=1, maximum=120, allow_none=True, metadata={"description": MAINTENANCE})
    maintenance_next_on = Day(allow_none=True, metadata={"description": NEXT_MAINTENANCE})

    @validates_schema
    def _term(self, data: dict[str, Any], **_: Any) -> None:
        _term_in_order(data)


class ContractChangeSchema(Schema):
    """The fields of a contract to change; the number and the client never change. `{"status": "terminated"}` (or
    `suspended`) stops it entitling."""

    starts_on = Day()
    ends_on = Day(metadata={"description": "Not before starts_on."})
    covers = fields.List(Code(max_length=40, validate=CLASS, metadata={"description": CLASS_DESCRIPTION}))
    items = fields.List(Code(validate=SERIAL), validate=validate.Length(max=MAX_ITEMS))
    service_level = Code(max_length=40)
    parts_included = fields.Boolean()
    status = Choice(STATUSES)
    maintenance_every_months = Int(minimum=1, maximum=120, allow_none=True, metadata={"description": MAINTENANCE})
    maintenance_next_on = Day(allow_none=True, metadata={"description": NEXT_MAINTENANCE})

    @validates_schema
    def _term(self, data: dict[str, Any], **_: Any) -> None:
        _term_in_order(data)


class ContractListArgsSchema(ListArgsSchema):
    """Paging, text search (number) and the contract filters."""

    class Meta:
        exclude = ("active",)

    client = Code(metadata={"description": "Only this client's contracts (its code)."})
    status = Choice(STATUSES)


ContractPageSchema = page_of(ContractSchema, "ContractPage")
