"""Text search in lists: a case-insensitive "contains" that treats the searched text literally."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """True where the column holds `text` anywhere, ignoring case (`%` and `_` in it are plain characters)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")
