"""The equipment contract."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.clients.schemas import CODE
from service.directory.schemas import ListArgsSchema, page_of
from service.fields import Choice, Code, Day, Line
from service.teams.schemas import CLASS

#: An equipment class (the rules' `equipment_class`): a built-in one or one a team serves, else 422.
CLASS_DESCRIPTION = "storage, servers, network, or a class a product team serves (GET /teams)."
IN_SERVICE = "in_service"
RETIRED = "retired"
STATUSES = (IN_SERVICE, RETIRED)
#: A serial number as routes name it.
SERIAL = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$", error="letters, digits, '.', '_' and '-', from a letter or digit"
)


def _dates_in_order(data: dict[str, Any]) -> None:
    installed, warranty = data.get("installed_on"), data.get("warranty_ends_on")
    if installed is not None and warranty is not None and warranty < installed:
        raise ValidationError("the warranty cannot end before the item was installed", "warranty_ends_on")


class EquipmentSchema(Schema):
    """An equipment item as the API shows it."""

    serial = fields.String()
    client = fields.Function(lambda item: item.client.code)
    site = fields.Function(lambda item: item.site.code if item.site else None, allow_none=True)
    vendor = fields.String()
    model = fields.String()
    equipment_class = fields.String()
    installed_on = fields.Date(allow_none=True)
    warranty_ends_on = fields.Date(allow_none=True)
    status = fields.String(metadata={"description": "in_service or retired (a retired item keeps its tickets)."})


class EquipmentCreateSchema(Schema):
    """A new equipment item (administrators, or a duty officer who met it at intake)."""

    serial = Code(required=True, validate=SERIAL)
    client = Code(required=True, validate=CODE, metadata={"description": "The client's code."})
    site = Code(allow_none=True, load_default=None, metadata={"description": "The code of one of the client's sites."})
    vendor = Line(max_length=80, min_length=1, required=True)
    model = Line(min_length=1, required=True)
    equipment_class = Code(required=True, max_length=40, validate=CLASS, metadata={"description": CLASS_DESCRIPTION})
    installed_on = Day(allow_none=True, load_default=None)
    warranty_ends_on = Day(allow_none=True, load_default=None, metadata={"description": "Not before installed_on."})
    status = Choice(STATUSES, load_default=IN_SERVICE)

    @validates_schema
    def _dates(self, data: dict[str, Any], **_: Any) -> None:
        _dates_in_order(data)


class EquipmentChangeSchema(Schema):
    """The fields of an item to change; `{"status": "retired"}` retires it. The serial never changes, and the item
    never moves to another client (a `client` other than its own is refused)."""

    client = Code(metadata={"description": "Only the item's own client: equipment does not move between clients."})
    site = Code(allow_none=True, metadata={"description": "A site of the item's client, or null."})
    vendor = Line(max_length=80, min_length=1)
    model = Line(min_length=1)
    equipment_class = Code(max_length=40, validate=CLASS, metadata={"description": CLASS_DESCRIPTION})
    installed_on = Day(allow_none=True)
    warranty_ends_on = Day(allow_none=True, metadata={"description": "Not before installed_on."})
    status = Choice(STATUSES)

    @validates_schema
    def _dates(self, data: dict[str, Any], **_: Any) -> None:
        _dates_in_order(data)


class EquipmentListArgsSchema(ListArgsSchema):
    """Paging, text search (serial, vendor, model) and the equipment filters."""

    class Meta:
        exclude = ("active",)

    client = Code(metadata={"description": "Only this client's items (its code)."})
    site = Code(metadata={"description": "Only the items at this site code."})
    equipment_class = Code(max_length=40, validate=CLASS)
    status = Choice(STATUSES)


EquipmentPageSchema = page_of(EquipmentSchema, "EquipmentPage")
