"""What the task queues tell the SLA package: a claim or a completion of a task."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.db import utcnow
from service.sla import labour, tracking
from service.tasks.models import UserTask
from service.tickets.models import Ticket


def task_claimed(session: Session, *, task: UserTask, actor: str) -> None:
    """A person took a task: the first touch of a reaction task (`tracking.reacts`) is the reaction."""
    ticket = session.get(Ticket, task.ticket_id)
    if ticket is not None:
        tracking.on_task_event(session, ticket, task=task, now=utcnow())


def responds(task: UserTask) -> bool:
    """Whether completing the task is a response the clocks count (a reaction task's, `tracking.reacts`, if it is
    the first touch)."""
    return tracking.reacts(task.sla, task.candidate_groups)


def task_completed(
    session: Session, *, task: UserTask, actor: str, data: dict[str, Any], tracked: bool = False
) -> None:
    """A person completed a task: the reaction if it was a reaction task's first touch, and a time entry of its
    `hours`. `tracked`: the step's own refresh of the clocks took the completion already."""
    ticket = session.get(Ticket, task.ticket_id)
    if ticket is None:
        return
    now = utcnow()
    labour.entry_from_task(session, ticket, task=task, engineer=actor, data=data, now=now)
    if not tracked:
        tracking.on_task_event(session, ticket, task=task, now=now)
