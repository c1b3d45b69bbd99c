"""Record versions over HTTP: the `ETag` a read answers and the `If-Match` a change must send."""

from __future__ import annotations

from typing import Any

from flask import request

from service.db import Base
from service.directory.records import etag

IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "description": "The `ETag` of the version the change was made from: 412 when the record changed since, "
    "428 when it is missing.",
    "schema": {"type": "string"},
}
ETAG_HEADER = {"ETag": {"description": "The record's version, for `If-Match`.", "schema": {"type": "string"}}}


def if_match() -> str | None:
    """The request's `If-Match`, as sent."""
    return request.headers.get("If-Match")


def tagged(record: Base, status: int = 200) -> tuple[Any, int, dict[str, str]]:
    """A view's answer: the record, with its version in `ETag`."""
    return record, status, {"ETag": etag(record)}
