"""The ticket card of the task page: what the person working the task needs to see of its ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.sla.models import SlaClock
from service.tasks import services


@dataclass(frozen=True)
class Clock:
    """One SLA clock of the ticket."""

    kind: str
    state: str
    due_at: datetime | None
    seconds_left: int | None


@dataclass(frozen=True)
class Card:
    """The ticket as the task page shows it."""

    ticket: Any
    site: Any
    clocks: list[Clock]


def ticket_card(session: Session, task: Any) -> Card:
    """The task's ticket, the site of its equipment and its SLA clocks with the time left."""
    ticket = task.ticket
    now = utcnow()
    rows = session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id).order_by(SlaClock.id))
    clocks = [
        Clock(
            kind=row.kind,
            state=row.state,
            due_at=row.due_at,
            seconds_left=int((row.due_at - now).total_seconds()) if row.due_at is not None else None,
        )
        for row in rows
    ]
    site = services.task_site(task) if hasattr(task, "ticket_id") else None
    return Card(ticket=ticket, site=site, clocks=clocks)
