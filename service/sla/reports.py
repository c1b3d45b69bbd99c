"""Reports over the stored clocks, breach reviews and time entries: one aggregate query each, no clock replays.

A clock that still runs but passed its deadline counts as breached at the moment the report is read, even before
the worker fired its breach, so the figures match the tickets' own at that moment.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.auth.permissions import Permission, allowed
from service.clients.models import Client
from service.db import is_postgres, utcnow
from service.errors import Forbidden, Invalid
from service.sla.labour import staff_day, utilisation_by
from service.sla.models import BREACHED, CANCELLED, MET, BreachReview, SlaClock, TimeEntry
from service.tickets.models import Ticket

#: The longest period a utilisation report counts (about three years).
MAX_UTILISATION_DAYS = 3 * 366
SLA_GROUPS = ("client", "team", "service_level", "period", "severity")
LABOUR_GROUPS = ("engineer", "team", "client")


@dataclass(frozen=True)
class Filters:
    """What every report is filtered by: a period of days (both included), a client and a team."""

    date_from: date | None = None
    date_to: date | None = None
    client: str | None = None
    team: str | None = None
    group_by: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The filters as given, for the report's header."""
        return {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "client": self.client,
            "team": self.team,
            "group_by": list(self.group_by),
        }


@dataclass(frozen=True)
class Report:
    """Rows and a summary."""

    name: str
    filters: dict[str, Any]
    rows: list[dict[str, Any]]
    summary: dict[str, Any]


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def _end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=timezone.utc)


def scoped(session: Session, user: Caller, filters: Filters, *, clients_may: bool) -> Filters:
    """The filters a caller may use: managers any, a client user only their own company (where allowed)."""
    if allowed(user, Permission.READ_REPORTS):
        return filters
    if clients_may and user.client_id is not None and allowed(user, Permission.READ_OWN_COMPANY_REPORTS):
        own = session.scalar(select(Client.code).where(Client.id == user.client_id))
        return Filters(filters.date_from, filters.date_to, own, filters.team, filters.group_by, filters.extra)
    raise Forbidden("this report is for managers")


def _effective_state(now: datetime) -> Any:
    overdue = and_(SlaClock.stopped_at.is_(None), SlaClock.due_at.is_not(None), SlaClock.due_at <= now)
    return case((SlaClock.state == BREACHED, BREACHED), (overdue, BREACHED), else_=SlaClock.state)


def _period(session: Session, column: Any) -> Any:
    """The month of `column`: on PostgreSQL its first moment (`_month` names it after the grouping), since
    `to_char` on every row of a period costs more than the rest of the report."""
    if is_postgres(session):
        return func.date_trunc("month", column)
    return func.strftime("%Y-%m", column)


def _month(value: Any) -> Any:
    """A period as the report names it, `YYYY-MM`, whichever form `_period` gave."""
    return value.strftime("%Y-%m") if isinstance(value, datetime) else value


def sla_report(session: Session, *, user: Caller, filters: Filters, now: datetime | None = None) -> Report:
    """Compliance per clock and group (client, team, service level, period, severity): met, breached, open."""
    filters = scoped(session, user, filters, clients_may=True)
    unknown = set(filters.group_by) - set(SLA_GROUPS)
    if unknown:
        raise Invalid("unknown grouping", errors={"group_by": [f"use {', '.join(SLA_GROUPS)}"]})
    now = now or utcnow()
    keys = {
        "client": SlaClock.client_id,  # codes are put in afterwards: a join would cost more than the aggregate
        "team": SlaClock.team,
        "service_level": SlaClock.service_level,
        "period": _period(session, SlaClock.started_at),
        "severity": SlaClock.severity,
    }
    groups = [keys[name].label(name) for name in filters.group_by]
    state = _effective_state(now).label("state")
    stopped = SlaClock.stopped_at.is_not(None)
    query = (
        select(*groups, SlaClock.kind.label("clock"), state, func.count())
        .add_columns(
            func.sum(case((stopped, 1), else_=0)), func.sum(case((stopped, SlaClock.elapsed_seconds), else_=0))
        )
        .where(SlaClock.state != CANCELLED)
        .group_by(*groups, SlaClock.kind, state)
    )
    query = _where(query, filters, SlaClock.started_at, SlaClock.team, by_id=True)
    table: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    for record in session.execute(query):
        values = tuple(
            _month(value) if name == "period" else value for name, value in zip(record._fields, record, strict=True)
        )
        key = values[: len(groups) + 1]
        state_name, count, stopped_count, elapsed = values[len(groups) + 1 :]
        table[key][state_name] += int(count)
        table[key]["stopped"] += int(stopped_count or 0)
        table[key]["elapsed"] += int(elapsed or 0)
    codes = dict(session.execute(select(Client.id, Client.code)).tuples().all())
    rows = []
    for key in sorted(table, key=lambda k: tuple("" if v is None else str(v) for v in k)):
        counts = table[key]
        met, breached = counts[MET], counts[BREACHED]
        decided = met + breached
        row = dict(zip([*filters.group_by, "clock"], key, strict=True))
        if "client" in row:
            row["client"] = codes.get(row["client"])
        row.update(
            tickets=met + breached + counts["running"] + counts["paused"],
            met=met,
            breached=breached,
            open=counts["running"] + counts["paused"],
            compliance_percent=round(100 * met / decided, 2) if decided else None,
            average_elapsed_seconds=round(counts["elapsed"] / counts["stopped"]) if counts["stopped"] else None,
        )
        rows.append(row)
    summary = {
        clock: {
            "tickets": sum(r["tickets"] for r in rows if r["clock"] == clock),
            "met": sum(r["met"] for r in rows if r["clock"] == clock),
            "breached": sum(r["breached"] for r in rows if r["clock"] == clock),
        }
        for clock in ("reaction", "resolution")
    }
    return Report("sla", filters.as_dict(), rows, summary)


def _where(query: Any, filters: Filters, moment: Any, team: Any, *, by_id: bool = False) -> Any:
    if filters.date_from:
        query = query.where(moment >= _start(filters.date_from))
    if filters.date_to:
        query = query.where(moment < _end(filters.date_to))
    if filters.team:
        query = query.where(team == filters.team)
    if filters.client and by_id:
        query = query.where(
            SlaClock.client_id == select(Client.id).where(Client.code == filters.client).scalar_subquery()
        )
    elif filters.client:
        query = query.where(Client.code == filters.client)
    return query


def _breached(query: Any, filters: Filters, now: datetime) -> Any:
    """`query` narrowed to the breached clocks of the filters, joined with their review (if any): a clock still
    running past its deadline is breached already."""
    overdue = and_(SlaClock.stopped_at.is_(None), SlaClock.due_at.is_not(None), SlaClock.due_at <= now)
    query = (
        query.join(Client, SlaClock.client_id == Client.id)
        .outerjoin(
            BreachReview, and_(BreachReview.ticket_id == SlaClock.ticket_id, BreachReview.clock == SlaClock.kind)
        )
        .where(or_(SlaClock.state == BREACHED, overdue), SlaClock.state != CANCELLED)
    )
    return _where(query, filters, SlaClock.due_at, SlaClock.team)


def breaches_report(session: Session, *, user: Caller, filters: Filters, now: datetime | None = None) -> Report:
    """Every breached clock with the reason its review gave, and the count per reason."""
    filters = scoped(session, user, filters, clients_may=True)
    query = select(SlaClock, Ticket.number, Client.code, BreachReview).join(Ticket, SlaClock.ticket_id == Ticket.id)
    query = _breached(query, filters, now or utcnow()).order_by(SlaClock.due_at, SlaClock.id)
    rows = []
    for clock, number, client, review in session.execute(query):
        rows.append(
            {
                "ticket": number,
                "client": client,
                "service_level": clock.service_level,
                "severity": clock.severity,
                "clock": clock.kind,
                "team": clock.team,
                "due_at": clock.due_at,
                "stopped_at": clock.stopped_at,
                "target_seconds": clock.target_seconds,
                "elapsed_seconds": clock.elapsed_seconds,
                "reason": review.reason if review is not None else None,
                "comment": review.comment if review is not None else None,
                "reviewed_by": review.reviewed_by if review is not None else None,
            }
        )
    by_reason = Counter(row["reason"] or "unreviewed" for row in rows)
    return Report("breaches", filters.as_dict(), rows, {"breaches": len(rows), "by_reason": dict(by_reason)})


def breach_reasons(session: Session, *, user: Caller, filters: Filters, now: datetime | None = None) -> dict[str, int]:
    """The summary's count per reason of the breaches report, by one grouped query instead of every breach's row
    (what the dashboard's chart shows)."""
    filters = scoped(session, user, filters, clients_may=True)
    reason = func.coalesce(BreachReview.reason, "unreviewed")
    query = _breached(select(reason, func.count()).select_from(SlaClock), filters, now or utcnow())
    return {str(name): int(count) for name, count in session.execute(query.group_by(reason))}


def labour_report(session: Session, *, user: Caller, filters: Filters) -> Report:
    """Hours per engineer, team or client: in all, and remote, on site and travelling."""
    filters = scoped(session, user, filters, clients_may=False)
    group = (filters.group_by or ("engineer",))[0]
    if len(filters.group_by) > 1 or group not in LABOUR_GROUPS:
        raise Invalid("unknown grouping", errors={"group_by": [f"one of {', '.join(LABOUR_GROUPS)}"]})
    key = {"engineer": TimeEntry.engineer, "team": TimeEntry.team, "client": Client.code}[group].label(group)
    base = select(key).join(Ticket, TimeEntry.ticket_id == Ticket.id).join(Client, Ticket.client_id == Client.id)
    if filters.date_from:
        base = base.where(TimeEntry.day >= filters.date_from)
    if filters.date_to:
        base = base.where(TimeEntry.day <= filters.date_to)
    if filters.team:
        base = base.where(TimeEntry.team == filters.team)
    if filters.client:
        base = base.where(Client.code == filters.client)
    table: dict[Any, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    by_kind = base.add_columns(TimeEntry.kind, func.sum(TimeEntry.hours), func.count(TimeEntry.id))
    for name, kind, hours, entries in session.execute(by_kind.group_by(key, TimeEntry.kind)):
        table[name][kind] += float(hours or 0)
        table[name]["entries"] += entries
    per_ticket = base.add_columns(func.count(func.distinct(TimeEntry.ticket_id))).group_by(key)
    tickets = {name: count for name, count in session.execute(per_ticket)}
    rows = [
        {
            group: name,
            "hours": round(sum(values[k] for k in ("remote", "onsite", "travel")), 2),
            "remote_hours": round(values["remote"], 2),
            "onsite_hours": round(values["onsite"], 2),
            "travel_hours": round(values["travel"], 2),
            "entries": int(values["entries"]),
            "tickets": int(tickets.get(name, 0)),
        }
        for name, values in sorted(table.items(), key=lambda item: str(item[0]))
    ]
    return Report("labour", filters.as_dict(), rows, {"hours": round(sum(r["hours"] for r in rows), 2)})


def utilisation_report(session: Session, *, user: Caller, filters: Filters) -> Report:
    """Productive hours over available working hours, per engineer or team, in the period (this month by default)."""
    group = (filters.group_by or ("engineer",))[0]
    return utilisation_reports(session, user=user, filters=filters, groups=(group,))[group]


def utilisation_reports(
    session: Session, *, user: Caller, filters: Filters, groups: tuple[str, ...]
) -> dict[str, Report]:
    """The utilisation report per engineer and per team (`groups`, of those two) for the same filters, from one
    reading of the calendar and the hours: what the dashboard shows side by side."""
    filters = scoped(session, user, filters, clients_may=False)
    today = staff_day(session, utcnow())  # the day the hours are booked on
    first = filters.date_from or today.replace(day=1)
    last = filters.date_to or today
    if last < first:
        raise Invalid("the period ends before it starts", errors={"to": ["must not be before from"]})
    if (last - first).days > MAX_UTILISATION_DAYS:
        # Available hours are counted day by day in the calendar: a century would keep a worker busy for minutes.
        raise Invalid("the period is too long", errors={"to": [f"at most {MAX_UTILISATION_DAYS} days after from"]})
    if set(groups) - {"engineer", "team"}:
        raise Invalid("unknown grouping", errors={"group_by": ["engineer or team"]})
    by_group = utilisation_by(
        session,
        date_from=first,
        date_to=last,
        team=filters.team,
        groups=groups,
        calendar=filters.extra.get("calendar"),
    )
    return {group: _utilisation(group, filters, first, last, by_group[group]) for group in groups}


def _utilisation(group: str, filters: Filters, first: date, last: date, figures: list[Any]) -> Report:
    rows = [
        {
            group: item.key,
            "engineers": item.engineers,
            "available_hours": item.available_hours,
            "productive_hours": item.productive_hours,
            "utilisation_percent": item.utilisation,
        }
        for item in figures
    ]
    available = sum(item.available_hours for item in figures)
    productive = sum(item.productive_hours for item in figures)
    header = {**filters.as_dict(), "from": first.isoformat(), "to": last.isoformat()}
    summary = {
        "available_hours": round(available, 2),
        "productive_hours": round(productive, 2),
        "utilisation_percent": round(100 * productive / available, 1) if available else None,
    }
    return Report("utilisation", header, rows, summary)
