"""The contract of a client's sites."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields

from service.clients.schemas import CODE
from service.directory.schemas import page_of
from service.fields import Code, Line, Text


def _time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("not an IANA time zone (such as Europe/Moscow)") from None


TIME_ZONE = {"description": "An IANA time zone (`Europe/Moscow`): the site's working hours are read in it."}


class SiteSchema(Schema):
    """A site as the API shows it: where equipment stands and how engineers get in."""

    code = fields.String(metadata={"description": "Unique within the client (`HQ`, `DC-2`)."})
    name = fields.String()
    address = fields.String()
    city = fields.String()
    time_zone = fields.String(metadata=TIME_ZONE)
    access_notes = fields.String(metadata={"description": "How an engineer gets in: passes, contacts, parking."})
    working_hours = fields.String(metadata={"description": "As people write them (`Mon-Fri 09:00-18:00`)."})
    active = fields.Boolean()


class SiteCreateSchema(Schema):
    """A new site of a client."""

    code = Code(max_length=40, required=True, validate=CODE)
    name = Line(required=True, min_length=1)
    address = Line(max_length=400, load_default="")
    city = Line(max_length=120, load_default="")
    time_zone = Line(max_length=64, load_default="Europe/Moscow", validate=_time_zone, metadata=TIME_ZONE)
    access_notes = Text(load_default="")
    working_hours = Line(load_default="")
    active = fields.Boolean(load_default=True)


class SiteChangeSchema(Schema):
    """The fields of a site to change (any of them; the code never changes)."""

    name = Line(min_length=1)
    address = Line(max_length=400)
    city = Line(max_length=120)
    time_zone = Line(max_length=64, validate=_time_zone, metadata=TIME_ZONE)
    access_notes = Text()
    working_hours = Line()
    active = fields.Boolean()


SitePageSchema = page_of(SiteSchema, "SitePage")
