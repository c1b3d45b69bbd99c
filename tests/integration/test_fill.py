"""The tests' own starting point: a fill that puts a snapshot back leaves the database as loading it afresh does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, text

from service.context import Context
from service.db import Base, utcnow
from tests.conftest import _SEQUENCES, _empty, _load, fill


def _state(ctx: Context) -> dict[str, Any]:
    """Every row of every table in id order, its times apart, and the position of every sequence."""
    state: dict[str, Any] = {}
    with ctx.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            state[table.name] = [{k: v for k, v in row.items() if not isinstance(v, datetime)} for row in rows]
        if ctx.engine.dialect.name == "postgresql":
            for name in conn.scalars(text(_SEQUENCES)):
                state[name] = tuple(conn.execute(text(f'SELECT last_value, is_called FROM "{name}"')).one())
    return state


def _times(ctx: Context) -> list[datetime]:
    with ctx.engine.connect() as conn:
        return [
            value
            for table in Base.metadata.sorted_tables
            for row in conn.execute(select(table))
            for value in row
            if isinstance(value, datetime)
        ]


def test_a_fill_from_the_snapshot_is_a_fresh_load_with_its_times_now(session_ctx: Context) -> None:
    fill(session_ctx)  # the first of the day takes the snapshot; this one or the next puts it back
    before = utcnow()
    fill(session_ctx)
    restored, restored_times = _state(session_ctx), _times(session_ctx)
    _empty(session_ctx)
    _load(session_ctx)
    fresh = _state(session_ctx)
    assert restored == fresh
    assert sum(len(rows) for rows in fresh.values() if isinstance(rows, list)) > 50  # the demo is there
    assert restored_times and all(time <= utcnow() for time in restored_times)
    assert before <= max(restored_times)  # the last time of the snapshot is the moment it was put back
