"""Keyset paging of a list by one unique, never-changing key (a code, a serial, a number, an id).

A page starts after the key of the last row of the previous page, so rows added or removed between two pages
neither shift the others nor make one appear twice. The cursor is opaque to clients: the key, base64-encoded JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from service.errors import Invalid

T = TypeVar("T")
#: The largest page of any directory list, and the one given when a caller names none.
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
#: A cursor is far shorter than this; anything longer is refused before it is decoded.
MAX_CURSOR = 600


@dataclass(frozen=True)
class Page(Generic[T]):
    """A page of a list and the cursor of the next one (None on the last page)."""

    items: Sequence[T]
    next: str | None


def encode_cursor(key: str | int) -> str:
    """The opaque form of a key."""
    return base64.urlsafe_b64encode(json.dumps([key]).encode()).decode().rstrip("=")


def decode_cursor(text: str) -> str | int:
    """The key of a cursor this service wrote; 422 for anything else."""
    try:
        if len(text) > MAX_CURSOR:
            raise ValueError
        body = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
        if not (isinstance(body, list) and len(body) == 1 and isinstance(body[0], (str, int))):
            raise ValueError
        if isinstance(body[0], bool):
            raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("not a cursor of this list", errors={"cursor": ["not a cursor of this list"]}) from None
    return body[0]


def keyset_page(
    session: Session,
    query: Select[Any],
    *,
    key: InstrumentedAttribute[Any],
    cursor: str | None,
    page_size: int,
) -> Page[Any]:
    """One page of `query`'s rows in the order of `key` (unique), after the row whose key the cursor holds."""
    if cursor is not None:
        after = decode_cursor(cursor)
        if not isinstance(after, key.type.python_type):
            raise Invalid("not a cursor of this list", errors={"cursor": ["not a cursor of this list"]})
        query = query.where(key > after)
    rows = list(session.scalars(query.order_by(key).limit(page_size + 1)))
    if len(rows) <= page_size:
        return Page(rows, None)
    rows = rows[:page_size]
    return Page(rows, encode_cursor(getattr(rows[-1], key.key)))
