"""Firing the timer start events of deployed processes beside the ticket flow (`service.timers.schedule` writes
their rows): a row's firing starts an instance of its version, once, and moves a cycle's row on. The firing takes the
same claim and lease as every due timer (`service.timers.firing`) and reads the row again under a lock in its own
transaction, so of two workers, or two passes of one, only one starts the instance of a moment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from service import engine
from service.context import Context
from service.db import is_postgres, transaction
from service.processes.standalone import start_process
from service.timers.models import FIRED, WAITING, DueTimer

#: The actor an instance started by its timer is recorded under.
ACTOR = "timer"


def fire_start(session: Session, ctx: Context, row: DueTimer, *, worker: str, now: datetime) -> str:
    """Start the instance of the start row's moment and schedule its next one ("fired"); "skipped" when another
    worker fired it, or took it over, first."""
    session.refresh(row, with_for_update=is_postgres(session))
    if row.state != WAITING or row.locked_by != worker or row.due_at > now:
        return "skipped"
    assert row.definition_id is not None
    start_process(session, ctx, actor=ACTOR, variables={}, definition_id=row.definition_id)
    move_on(session, ctx, row, now=now)
    return "fired"


def move_on(session: Session, ctx: Context, row: DueTimer, *, now: datetime) -> None:
    """The start row after its moment: waiting for the cycle's next one, else fired for good."""
    assert row.definition_id is not None
    _, parsed = ctx.definitions.by_id(session, definition_id=row.definition_id)
    spec = next(start.timer for start in parsed.start_events if start.element_id == row.element_id)
    assert spec is not None
    row.fired_count, row.fired_at, row.locked_until, row.updated_at = row.fired_count + 1, now, None, now
    following = engine.next_start(spec, due_at=row.due_at, fired=row.fired_count, now=now)
    if following is None:
        row.state = FIRED
    else:
        row.due_at = following


def skip_failed_start(ctx: Context, timer_id: int, *, worker: str, now: datetime) -> None:
    """After a start that failed (logged, with no ticket to stop), the schedule goes on to its next moment."""
    with transaction(ctx.sessions) as session:
        row = session.get(DueTimer, timer_id, with_for_update=is_postgres(session))
        if row is not None and row.state == WAITING and row.locked_by == worker:
            move_on(session, ctx, row, now=now)
