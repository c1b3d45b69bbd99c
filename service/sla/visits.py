"""Site visits: an engineer checks in on an on-site task and checks out; the check-out books the time between.

Time entries hold hours of a day, not an open span, so the open span is a visit of its own (`SiteVisit`); its
check-out writes the on-site time entry (`source` "visit"). The position of either end is kept only when the
person's browser sent it. Who may: whoever books time (`book_time`) and may work the task (404 otherwise).
A refusal because of the task's or the visit's state is a 409 whose `reason` says which (`not_on_site`,
`task_done`, `already_in`, `not_in`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.db import utcnow
from service.errors import Conflict, NotFound
from service.sla.labour import on_site, staff_day
from service.sla.models import SiteVisit, TimeEntry
from service.sla.tracking import engineering_group
from service.tasks.models import OPEN, UserTask
from service.tasks.services import get_task
from service.tickets.history import record

#: A visit left open longer than a day is booked as a day: a time entry holds at most 24 hours.
MAX_HOURS = Decimal(24)


@dataclass(frozen=True)
class Position:
    """Where the person's device said it was."""

    lat: float
    lon: float


def _onsite_task(session: Session, user: Caller, task_id: str) -> UserTask:
    authorize(user, Permission.BOOK_TIME)
    task = get_task(session, user=user, task_id=task_id)
    if not isinstance(task, UserTask):
        raise NotFound(f"no task {task_id}")  # a breach review is no place to check in
    if not on_site(task):
        raise Conflict(f"task {task_id} is not on-site work: nobody checks in on it", reason="not_on_site")
    return task


def open_visit(session: Session, *, task_id: str, engineer: str, lock: bool = False) -> SiteVisit | None:
    """The engineer's visit of the task not yet checked out, if any."""
    query = select(SiteVisit).where(
        SiteVisit.task_id == task_id, SiteVisit.engineer == engineer, SiteVisit.checked_out_at.is_(None)
    )
    return session.scalar(query.with_for_update(of=SiteVisit) if lock else query)


def visits_of(session: Session, *, task_id: str, engineer: str) -> list[SiteVisit]:
    """The engineer's visits of the task, oldest first."""
    query = select(SiteVisit).where(SiteVisit.task_id == task_id, SiteVisit.engineer == engineer)
    return list(session.scalars(query.order_by(SiteVisit.id)))


def check_in(
    session: Session, *, user: Caller, task_id: str, position: Position | None = None, now: datetime | None = None
) -> SiteVisit:
    """Open a visit of an open on-site task (409 when the caller is checked in there already)."""
    task = _onsite_task(session, user, task_id)
    if task.state != OPEN:
        raise Conflict(f"task {task_id} is done: check in on an open task", reason="task_done")
    if open_visit(session, task_id=task.id, engineer=user.username) is not None:
        raise Conflict(f"you are checked in on task {task_id} already", reason="already_in")
    visit = SiteVisit(
        task_id=task.id,
        ticket_id=task.ticket_id,
        engineer=user.username,
        checked_in_at=now or utcnow(),
        in_lat=position.lat if position else None,
        in_lon=position.lon if position else None,
    )
    session.add(visit)
    session.flush()  # two check-ins at once: the open-visit index lets one in, the other is a 409
    record(session, task.ticket, user.username, "checked_in", task=task.id, position=position is not None)
    return visit


def check_out(
    session: Session, *, user: Caller, task_id: str, position: Position | None = None, now: datetime | None = None
) -> SiteVisit:
    """Close the caller's open visit of the task and book its hours on site (409 when not checked in).

    The task may be done meanwhile: an engineer completes the task, then leaves.
    """
    task = _onsite_task(session, user, task_id)
    visit = open_visit(session, task_id=task.id, engineer=user.username, lock=True)
    if visit is None:
        raise Conflict(f"you are not checked in on task {task_id}", reason="not_in")
    visit.checked_out_at = now or utcnow()
    visit.out_lat, visit.out_lon = (position.lat, position.lon) if position else (None, None)
    spent = Decimal((visit.checked_out_at - visit.checked_in_at).total_seconds()) / 3600
    hours = min(MAX_HOURS, max(Decimal(0), spent)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    queue = engineering_group(task.candidate_groups)
    visit.time_entry = TimeEntry(
        ticket_id=task.ticket_id,
        engineer=user.username,
        team=queue[0] if queue else None,
        level=queue[1] if queue else None,
        day=staff_day(session, visit.checked_in_at),
        hours=hours,
        kind="onsite",
        source="visit",
        note=f"task {task.name}",
        created_by=user.username,
    )
    session.flush()
    record(session, task.ticket, user.username, "checked_out", task=task.id, hours=str(hours))
    return visit
