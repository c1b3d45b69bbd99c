"""Keyset paging, the one way every list of the service pages.

A page starts after the (sort key..., id) of the last row of the previous page, compared as one row value, so rows
added or removed between two pages neither shift the others nor make one appear twice, and rows sharing a sort key
are never split or repeated. Every key must be one that never changes once the row is written (a code, a serial, a
creation time, an id); the cursor is opaque to clients and names its list, so the cursor of one list is refused by
another. `keyset_page` is the common case of one unique key (a directory list by its natural key).

`PageArgs` is the query string of such a list: `cursor` and `page_size` (capped), and `page`/`offset` refused by name.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Generic, TypeVar

from marshmallow import Schema, ValidationError, fields, pre_load, validate
from sqlalchemy import Select, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from service.errors import Invalid

T = TypeVar("T")
#: The largest page of any list, and the one given when a caller names none.
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
#: A cursor is far shorter than this; anything longer is refused before it is decoded.
MAX_CURSOR = 600

NOT_A_CURSOR = "not a cursor of this list"
#: What `page` or `offset` is told: this service pages by cursor only.
BY_CURSOR = "this list pages by `cursor` (the `next` of the previous page), not by page or offset"


@dataclass(frozen=True)
class Page(Generic[T]):
    """A page of a list and the cursor of the next one (None on the last page)."""

    items: Sequence[T]
    next: str | None


def _invalid() -> Invalid:
    return Invalid(NOT_A_CURSOR, errors={"cursor": [NOT_A_CURSOR]})


def _python_type(column: InstrumentedAttribute[Any]) -> type:
    kind = column.type
    kind = getattr(kind, "impl_instance", kind)  # a TypeDecorator (UtcDateTime) stands for its implementation
    return kind.python_type


def encode(list_name: str, values: Sequence[Any]) -> str:
    """The opaque cursor of the row with these key values in the list `list_name`."""
    keys = [_plain(value) for value in values]
    body = json.dumps({"l": list_name, "k": keys}, separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def decode(list_name: str, text: str, keys: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    """The key values of a cursor this service wrote for `list_name`; 422 for anything else."""
    try:
        if len(text) > MAX_CURSOR:
            raise ValueError
        body = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
        if not isinstance(body, dict) or set(body) != {"l", "k"} or body["l"] != list_name:
            raise ValueError
        raw = body["k"]
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise ValueError
        values = [_value(value, _python_type(key)) for value, key in zip(raw, keys, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise _invalid() from None
    return values


def _value(value: Any, kind: type) -> Any:
    if isinstance(value, bool):
        raise ValueError
    if kind is datetime:
        if not isinstance(value, str):
            raise ValueError
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError
        return moment.astimezone(timezone.utc)
    if kind is date:
        if not isinstance(value, str):
            raise ValueError
        return date.fromisoformat(value)
    if kind is int and isinstance(value, int):
        return value
    if kind is str and isinstance(value, str):
        return value
    raise ValueError


def keyset_rows(
    session: Session,
    query: Select[Any],
    *,
    list_name: str,
    keys: Sequence[InstrumentedAttribute[Any]],
    descending: bool = False,
    cursor: str | None,
    page_size: int,
    scalars: bool = False,
) -> Page[Any]:
    """One page of `query` in the order of `keys` (together unique, the last one the id), after the cursor's row.

    Each row must carry each key under the key's name (`created_at`, `id`); rows of columns come as dicts; `scalars`
    reads one entity per row (an ORM object with no relationships loaded per row) instead."""
    if cursor is not None:
        values = decode(list_name, cursor, keys)
        start = tuple_(*[literal(value, key.type) for value, key in zip(values, keys, strict=True)])
        current = tuple_(*keys)
        query = query.where(current < start if descending else current > start)
    order = [key.desc() for key in keys] if descending else list(keys)
    paged = query.order_by(*order).limit(page_size + 1)
    # rows of columns as dicts: a schema reads a dict's keys far faster than a row's attributes
    rows = list(session.scalars(paged)) if scalars else [row._asdict() for row in session.execute(paged)]
    if len(rows) <= page_size:
        return Page(rows, None)
    rows = rows[:page_size]
    last = rows[-1]
    values = [getattr(last, key.key) if scalars else last[key.key] for key in keys]
    return Page(rows, encode(list_name, values))


def keyset_page(
    session: Session,
    query: Select[Any],
    *,
    key: InstrumentedAttribute[Any],
    cursor: str | None,
    page_size: int,
    descending: bool = False,
) -> Page[Any]:
    """One page of `query`'s entities in the order of `key` (unique, never changing), after the cursor's row."""
    list_name = key.class_.__tablename__
    return keyset_rows(
        session,
        query,
        list_name=list_name,
        keys=[key],
        descending=descending,
        cursor=cursor,
        page_size=page_size,
        scalars=True,
    )


class PageArgs(Schema):
    """The paging of a keyset list: `cursor` and `page_size`; `page` and `offset` are refused naming `cursor`."""

    cursor = fields.String(
        validate=validate.Length(max=MAX_CURSOR), metadata={"description": "The `next` of the previous page."}
    )
    page_size = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE,
        validate=validate.Range(1, MAX_PAGE_SIZE),
        metadata={"description": f"Rows per page, at most {MAX_PAGE_SIZE}."},
    )

    @pre_load
    def _no_offset(self, data: Any, **kwargs: Any) -> Any:
        """`page` and `offset` are refused by name, pointing to `cursor` (not as just any unknown parameter)."""
        named = sorted(name for name in ("page", "offset") if hasattr(data, "keys") and name in data)
        if named:
            raise ValidationError({name: [BY_CURSOR] for name in named})
        return data


NEXT = fields.String(
    allow_none=True, metadata={"description": "Pass it as `cursor`, with the same filters, for the next page."}
)


def page_of(item: type[Schema] | Schema, name: str) -> type[Schema]:
    """The schema of a page of `item`s, named `name` in the OpenAPI document."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item)), "next": NEXT}, name=name)
