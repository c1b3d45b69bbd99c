"""The saved filters' contract."""

from __future__ import annotations

from marshmallow import Schema, fields

from service.fields import Line


class SavedFilterSchema(Schema):
    """A saved filter: its name and the inbox's query string it stands for."""

    id = fields.Integer()
    name = fields.String()
    query = fields.String(metadata={"description": "For `GET /tasks?<query>` and the page `/?<query>`."})
    created_at = fields.DateTime()


class SavedFilterCreateSchema(Schema):
    """A filter to keep: the name (a filter of the caller's by that name is replaced) and the query string."""

    name = Line(required=True, min_length=1, max_length=80)
    query = Line(
        required=True,
        max_length=1000,
        metadata={
            "description": "The inbox's filters and `sort` as a query string, e.g. `status=in_progress&sort=sla` "
            "(no cursor, no page size; another key is refused with 422)."
        },
    )


class SavedFilterListSchema(Schema):
    """The caller's saved filters by name."""

    items = fields.List(fields.Nested(SavedFilterSchema))
