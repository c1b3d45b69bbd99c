"""The contract every directory list and record shares: the list arguments, a page, the change history."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from service.fields import Line
from service.paging import DEFAULT_PAGE_SIZE, MAX_CURSOR, MAX_PAGE_SIZE


class ListArgsSchema(Schema):
    """Paging, text search and the active filter of a directory list."""

    q = Line(max_length=200, metadata={"description": "Text to look for (case-insensitive, anywhere in the names)."})
    active = fields.Boolean(metadata={"description": "Only active (true) or only deactivated (false) records."})
    cursor = Line(max_length=MAX_CURSOR, metadata={"description": "The `next` of the previous page."})
    page_size = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE,
        validate=validate.Range(1, MAX_PAGE_SIZE),
        metadata={"description": f"Rows per page, at most {MAX_PAGE_SIZE}."},
    )


class PageArgsSchema(Schema):
    """Paging alone (a record's history)."""

    cursor = Line(max_length=MAX_CURSOR, metadata={"description": "The `next` of the previous page."})
    page_size = fields.Integer(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(1, MAX_PAGE_SIZE))


NEXT = fields.String(
    allow_none=True, metadata={"description": "Pass it as `cursor`, with the same filters, for the next page."}
)


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """The schema of a page of `item`s, named `name` in the OpenAPI document."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item)), "next": NEXT}, name=name)


class ChangeSchema(Schema):
    """One change of a record: who, when, the fields before and after."""

    id = fields.Integer()
    action = fields.String(metadata={"description": "created, updated, deactivated, reactivated, deleted or merged."})
    actor = fields.String()
    at = fields.DateTime()
    before = fields.Dict(allow_none=True, metadata={"description": "The changed fields as they were."})
    after = fields.Dict(allow_none=True, metadata={"description": "The changed fields as they are now."})
    source = fields.String(metadata={"description": "The file an import brought the change from, or empty."})


HistoryPageSchema = page_of(ChangeSchema, "HistoryPage")


def search_terms(args: dict[str, Any]) -> str | None:
    """The search text, lowercased, or None when there is none."""
    text = (args.get("q") or "").strip().lower()
    return text or None
