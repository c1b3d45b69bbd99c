"""What the managers watch now: the open tickets counted by team, level and status, and the tickets whose SLA is at
risk (a clock due within the next hours, or breached while the ticket is still open).

One grouped query each, over the ticket summaries and the stored clocks; like the reports, a clock still running
past its deadline counts as breached at the moment it is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, union_all
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.db import utcnow
from service.errors import Invalid
from service.sla.models import BREACHED, CANCELLED, SlaClock
from service.sla.reports import Filters, Report, scoped
from service.sla.tracking import DECLINED, SOLVED
from service.tickets.models import Ticket

#: Statuses a ticket no longer leaves: it is not open any more.
FINISHED = (SOLVED, DECLINED)
#: The open tickets, with the statuses written into the SQL: the planner then matches the partial index of the open
#: tickets (`ix_ticket_open`), which a bound parameter would hide from it.
OPEN_TICKET: ColumnElement[bool] = Ticket.status.not_in(
    bindparam("finished", list(FINISHED), expanding=True, literal_execute=True)
)
#: How far ahead "at risk" looks by default, and at most (hours).
RISK_HOURS, MAX_RISK_HOURS = 4, 24 * 31
#: The most tickets at risk listed at once, soonest deadline first.
RISK_LIMIT = 100


def open_tickets(session: Session, *, user: Caller, filters: Filters) -> Report:
    """The open tickets (not closed or declined) per team, level and status, by one grouped query (managers)."""
    filters = scoped(session, user, filters, clients_may=False)
    count = func.count()  # not of a column: the partial index alone answers
    query = (
        select(Ticket.team, Ticket.level, Ticket.status, count)
        .where(OPEN_TICKET)
        .group_by(Ticket.team, Ticket.level, Ticket.status)
    )
    if filters.team:
        query = query.where(Ticket.team == filters.team)
    rows = [
        {"team": team, "level": level, "status": status, "tickets": int(tickets)}
        for team, level, status, tickets in session.execute(query)
    ]
    rows.sort(key=lambda row: (row["team"] or "", row["level"] or 0, row["status"]))
    per_team: dict[str, int] = {}
    for row in rows:
        per_team[row["team"] or ""] = per_team.get(row["team"] or "", 0) + row["tickets"]
    summary = {"tickets": sum(row["tickets"] for row in rows), "by_team": per_team}
    return Report("open-tickets", filters.as_dict(), rows, summary)


@dataclass(frozen=True)
class AtRisk:
    """A clock of an open ticket that is due soon or breached."""

    ticket: str
    status: str
    team: str | None
    level: int | None
    severity: str
    clock: str
    due_at: datetime | None
    breached: bool
    seconds_left: int | None


def at_risk(session: Session, *, user: Caller, hours: int = RISK_HOURS, now: datetime | None = None) -> list[AtRisk]:
    """The clocks of open tickets due within `hours` or breached, soonest deadline first (managers)."""
    scoped(session, user, Filters(), clients_may=False)
    if not 1 <= hours <= MAX_RISK_HOURS:
        raise Invalid("hours out of range", errors={"hours": [f"from 1 to {MAX_RISK_HOURS}"]})
    now = now or utcnow()
    soon = and_(
        SlaClock.stopped_at.is_(None), SlaClock.due_at.is_not(None), SlaClock.due_at <= now + timedelta(hours=hours)
    )
    # Two ordered branches, each on its own index, instead of one OR that reads every clock: the running clocks due
    # soon (the partial index of the running clocks by deadline), and the breached ones that are not among them.
    breached_else = and_(
        SlaClock.state == BREACHED,
        or_(
            SlaClock.stopped_at.is_not(None), SlaClock.due_at.is_(None), SlaClock.due_at > now + timedelta(hours=hours)
        ),
    )
    branches = [
        select(SlaClock.id)
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(OPEN_TICKET, SlaClock.state != CANCELLED, condition)
        .order_by(SlaClock.due_at, SlaClock.id)
        .limit(RISK_LIMIT)
        .subquery()
        for condition in (soon, breached_else)
    ]
    chosen = union_all(*(select(branch.c.id) for branch in branches)).subquery()
    query: Any = (
        select(SlaClock, Ticket.number, Ticket.status, Ticket.level)
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(SlaClock.id.in_(select(chosen.c.id)))
        .order_by(SlaClock.due_at, SlaClock.id)
        .limit(RISK_LIMIT)
    )
    found = []
    for clock, number, status, level in session.execute(query):
        overdue = clock.stopped_at is None and clock.due_at is not None and clock.due_at <= now
        left = (
            int((clock.due_at - now).total_seconds()) if clock.due_at is not None and clock.stopped_at is None else None
        )
        found.append(
            AtRisk(
                ticket=number,
                status=status,
                team=clock.team,
                level=level,
                severity=clock.severity,
                clock=clock.kind,
                due_at=clock.due_at,
                breached=clock.state == BREACHED or overdue,
                seconds_left=left,
            )
        )
    return found
