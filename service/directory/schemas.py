"""The contract every directory list and record shares: the list arguments, a page, the change history."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from service.fields import Line
from service.paging import PageArgs, page_of


class ListArgsSchema(PageArgs):
    """Paging, text search and the active filter of a directory list."""

    q = Line(max_length=200, metadata={"description": "Text to look for (case-insensitive, anywhere in the names)."})
    active = fields.Boolean(metadata={"description": "Only active (true) or only deactivated (false) records."})


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
