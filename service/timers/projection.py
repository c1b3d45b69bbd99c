"""Keeping the due-timer table in line with the timers an instance waits on, after each of its steps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service import engine
from service.processes.models import ProcessInstance
from service.rows import insert_rows
from service.timers.models import DROPPED, FIRED, WAITING, DueTimer


def sync_timers(
    session: Session,
    *,
    instance: ProcessInstance,
    run: engine.Run,
    events: list[Any],
    now: datetime,
    new: bool,
) -> None:
    """One waiting row per waiting timer, its `due_at` as the instance says (a cycle's moves on after each firing).

    A row whose timer the instance no longer waits on is closed: fired when its element completed in this step
    (`events`: what the step did; the worker marks its own row first), else dropped (the task the timer watched
    ended first and cancelled it). A `new` instance has no rows yet, and one of a diagram without timers none ever:
    neither costs a statement.
    """
    if not run.has_timers:
        return
    timers = run.timers()
    completed = {event.element_id for event in events if isinstance(event, engine.TaskCompleted)}
    current = {timer.id: timer for timer in timers}
    rows: dict[str, DueTimer] = {}
    if not new:
        query = select(DueTimer).where(
            DueTimer.instance_id == instance.id,
            or_(DueTimer.state == WAITING, DueTimer.task_id.in_(list(current))),
        )
        with session.no_autoflush:
            rows = {row.task_id: row for row in session.scalars(query)}
    for task_id, row in rows.items():
        timer = current.get(task_id)
        if timer is None:
            if row.state == WAITING:
                row.state = FIRED if row.element_id in completed else DROPPED
                row.locked_until, row.updated_at = None, now
            continue
        if row.state != WAITING or row.due_at != timer.due_at:
            row.state, row.due_at, row.locked_until, row.updated_at = WAITING, timer.due_at, None, now
    insert_rows(
        session,
        DueTimer,
        [
            {
                "instance_id": instance.id,
                "ticket_id": instance.ticket_id,
                "task_id": timer.id,
                "element_id": timer.element_id,
                "kind": timer.kind,
                "due_at": timer.due_at,
                "state": WAITING,
                "fired_count": 0,
                "created_at": now,
                "updated_at": now,
            }
            for timer in timers
            if timer.id not in rows
        ],
    )
