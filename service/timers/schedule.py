"""The schedule of timer start events: one due-timer row per timer start event of a process's newest version,
without an instance (`service.timers.starts` fires it). Deploying a version drops the waiting rows of the versions
before it and writes its own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import engine
from service.errors import Invalid
from service.processes.models import ProcessDefinition
from service.timers.models import DROPPED, WAITING, DueTimer


def schedule_starts(session: Session, *, row: ProcessDefinition, parsed: engine.Definition, now: datetime) -> None:
    """Replace the schedule of the process's older versions with that of the version `row` (just deployed)."""
    older = select(ProcessDefinition.id).where(ProcessDefinition.key == row.key, ProcessDefinition.id != row.id)
    session.execute(
        update(DueTimer)
        .where(DueTimer.definition_id.in_(older), DueTimer.state == WAITING)
        .values(state=DROPPED, locked_until=None, updated_at=now)
    )
    for start in parsed.start_events:
        if start.timer is None:
            continue
        try:
            due = engine.first_start(start.timer, now)
        except engine.TimerError as error:
            problem = {"element": start.element_id, "line": parsed.lines.get(start.element_id), "detail": str(error)}
            raise Invalid(str(error), element=start.element_id, problems=[{**problem, "hint": None}]) from error
        if due is None:
            continue
        session.add(
            DueTimer(
                definition_id=row.id,
                task_id=f"start-{row.id}-{start.element_id}"[:64],
                element_id=start.element_id,
                kind=start.timer.kind,
                due_at=due,
                created_at=now,
                updated_at=now,
            )
        )
