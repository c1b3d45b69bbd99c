"""Administering calendars and service levels, and reading a ticket's clocks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.db import utcnow
from service.errors import Conflict, Invalid, NotFound
from service.sla.calendars import Calendar, CalendarError, aware, format_minute, parse_hours
from service.sla.clocks import ClockFigures
from service.sla.levels import calendar_of, forget_service_levels
from service.sla.models import (
    CLOCKS,
    BusinessCalendar,
    CalendarDay,
    Segment,
    ServiceLevel,
    ServiceTarget,
    SlaClock,
    SlaEvent,
    TimeEntry,
)
from service.sla.timeline import pause_of
from service.sla.tracking import compute_clocks, pauses_for, refresh_ticket
from service.tickets.models import Ticket

SEVERITIES = ("critical", "high", "normal", "low")

# ---- calendars -------------------------------------------------------------------------------------------------


def list_calendars(session: Session, *, user: Caller) -> list[BusinessCalendar]:
    """Every business calendar."""
    authorize(user, Permission.READ_SLA_SETUP)
    return list(session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.name)))


def get_calendar(session: Session, *, user: Caller, name: str) -> BusinessCalendar:
    """One business calendar by name."""
    authorize(user, Permission.READ_SLA_SETUP)
    row = session.scalar(select(BusinessCalendar).where(BusinessCalendar.name == name))
    if row is None:
        raise NotFound(f"no calendar {name!r}")
    return row


def save_calendar(
    session: Session, *, user: Caller, name: str, fields: dict[str, Any], create: bool
) -> BusinessCalendar:
    """Create a calendar, or replace one's data; the open clocks counted in it are recomputed."""
    authorize(user, Permission.ADMINISTER_SLA)
    row = session.scalar(select(BusinessCalendar).where(BusinessCalendar.name == name))
    if create and row is not None:
        raise Conflict(f"calendar {name!r} exists; PUT replaces it")
    if not create and row is None:
        raise NotFound(f"no calendar {name!r}")
    days = fields.get("days") or []
    try:
        Calendar.build(
            name=name,
            timezone_name=fields["timezone"],
            hours=fields["hours"],
            country=fields.get("country") or "",
        )
        for day in days:
            if day.get("working") and bool(day.get("start")) != bool(day.get("end")):
                raise CalendarError("days", f"{day['day']}: give both start and end, or neither")
            if day.get("start") and day.get("end"):
                parse_hours([(day["start"], day["end"])], field_name="days")
    except CalendarError as error:
        raise Invalid("the calendar is not usable", errors={error.field: [error.detail]}) from error
    if len({day["day"] for day in days}) != len(days):
        raise Invalid("a day is listed twice", errors={"days": ["each day at most once"]})
    if row is None:
        row = BusinessCalendar(name=name)
        session.add(row)
    row.title = fields.get("title") or ""
    row.timezone = fields["timezone"]
    row.country = fields.get("country") or ""
    row.hours = {key: [list(span) for span in spans] for key, spans in fields["hours"].items()}
    row.days.clear()
    session.flush()
    row.days.extend(
        CalendarDay(
            day=day["day"],
            working=bool(day.get("working")),
            start=day.get("start") or "",
            end=day.get("end") or "",
            note=day.get("note") or "",
        )
        for day in days
    )
    row.updated_at = utcnow()
    session.flush()
    if not create:
        levels = select(ServiceLevel.name).where(ServiceLevel.calendar_id == row.id)
        recompute_open(session, service_levels=set(session.scalars(levels)))
    return row


@dataclass(frozen=True)
class YearDay:
    """A day of a year that differs from its weekday's rule."""

    day: date
    kind: str
    working: bool
    hours: list[list[str]]


def calendar_year(session: Session, *, user: Caller, name: str, year: int) -> dict[str, Any]:
    """A calendar's year as it counts: its exceptional days and its working hours per month."""
    if not 1900 <= year <= 2200:
        raise NotFound(f"calendars count the years 1900 to 2200, not {year}")
    row = get_calendar(session, user=user, name=name)
    calendar = calendar_of(row)
    days = [
        YearDay(day, kind, bool(hours), [[format_minute(a), format_minute(b)] for a, b in hours])
        for day, kind, hours in calendar.year_exceptions(year)
    ]
    months = {}
    for month in range(1, 13):
        first = date(year, month, 1)
        last = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
        months[f"{year}-{month:02d}"] = calendar.working_hours(first, last)
    return {"calendar": name, "year": year, "days": days, "working_hours": months}


# ---- service levels --------------------------------------------------------------------------------------------


def list_service_levels(session: Session, *, user: Caller) -> list[ServiceLevel]:
    """Every service level."""
    authorize(user, Permission.READ_SLA_SETUP)
    return list(session.scalars(select(ServiceLevel).order_by(ServiceLevel.name)))


def get_service_level(session: Session, *, user: Caller, name: str) -> ServiceLevel:
    """One service level by name."""
    authorize(user, Permission.READ_SLA_SETUP)
    row = session.scalar(select(ServiceLevel).where(ServiceLevel.name == name))
    if row is None:
        raise NotFound(f"no service level {name!r}")
    return row


def save_service_level(
    session: Session, *, user: Caller, name: str, fields: dict[str, Any], create: bool
) -> ServiceLevel:
    """Create a service level, or replace one's data; its open clocks are recomputed from their history."""
    authorize(user, Permission.ADMINISTER_SLA)
    row = session.scalar(select(ServiceLevel).where(ServiceLevel.name == name))
    if create and row is not None:
        raise Conflict(f"service level {name!r} exists; PUT replaces it")
    if not create and row is None:
        raise NotFound(f"no service level {name!r}")
    calendar = session.scalar(select(BusinessCalendar).where(BusinessCalendar.name == fields["calendar_name"]))
    if calendar is None:
        raise Invalid("unknown calendar", errors={"calendar": [f"no calendar {fields['calendar_name']!r}"]})
    missing = [severity for severity in SEVERITIES if severity not in fields["targets_by_severity"]]
    if missing:
        raise Invalid("a target is missing", errors={"targets": [f"no target for {', '.join(missing)}"]})
    if row is None:
        row = ServiceLevel(name=name)
        session.add(row)
    row.title = fields.get("title") or ""
    row.calendar_id = calendar.id
    row.calendar = calendar
    row.start_on = fields.get("start_on") or "created"
    row.pause_for_parts = bool(fields.get("pause_for_parts"))
    row.warn_percent = int(fields.get("warn_percent") or 80)
    row.updated_at = utcnow()
    row.updated_by = user.username
    row.targets.clear()
    session.flush()
    row.targets.extend(
        ServiceTarget(
            severity=severity,
            reaction_minutes=target["reaction_minutes"],
            resolution_minutes=target["resolution_minutes"],
        )
        for severity, target in fields["targets_by_severity"].items()
    )
    session.flush()
    recompute_open(session, service_levels={name})
    return row


def recompute_all(session: Session, *, user: Caller) -> int:
    """Recompute every open ticket's clocks (administrators). Returns tickets."""
    authorize(user, Permission.ADMINISTER_SLA)
    return recompute_open(session)


def recompute_open(session: Session, *, service_levels: set[str] | None = None, now: datetime | None = None) -> int:
    """Recompute the clocks of the open tickets (of some service levels) from their history. Returns tickets."""
    forget_service_levels()
    query = select(SlaClock.ticket_id).where(SlaClock.stopped_at.is_(None)).distinct()
    if service_levels is not None:
        query = query.where(SlaClock.service_level.in_(service_levels))
    count = 0
    for ticket_id in list(session.scalars(query)):
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None:
            refresh_ticket(session, ticket, now=now or utcnow())
            count += 1
    return count


# ---- a ticket's clocks ----------------------------------------------------------------------------------------


def clock_view(figures: ClockFigures, calendar: Calendar) -> dict[str, Any]:
    """A clock as the API shows it: instants in the calendar's time zone, seconds of its working time."""
    target = int(figures.target.total_seconds())
    elapsed = int(figures.elapsed.total_seconds())

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(calendar.tz) if moment is not None else None

    return {
        "state": figures.state,
        "started_at": local(figures.started_at),
        "stopped_at": local(figures.stopped_at),
        "due_at": local(figures.due_at),
        "warn_at": local(figures.warn_at),
        "breached_at": local(figures.breached_at),
        "target_seconds": target,
        "elapsed_seconds": elapsed,
        "paused_seconds": int(figures.paused.total_seconds()),
        "remaining_seconds": target - elapsed,
    }


def ticket_sla(session: Session, ticket: Ticket, *, now: datetime | None = None) -> dict[str, Any] | None:
    """The ticket's clocks now (for the ticket's own view); None when no service level applies."""
    clocks = compute_clocks(session, ticket, now=now or utcnow(), responded=_responded(session, ticket))
    if clocks is None:
        return None
    view: dict[str, Any] = {kind: clock_view(clocks.figures[kind], clocks.calendar) for kind in CLOCKS}
    view["service_level"] = clocks.service_level.name
    view["calendar"] = clocks.calendar.name
    return view


def _responded(session: Session, ticket: Ticket) -> datetime | None:
    query = select(SlaClock.stopped_at).where(SlaClock.ticket_id == ticket.id, SlaClock.kind == "reaction")
    stopped = session.scalar(query.where(SlaClock.state != "cancelled"))
    return aware(stopped) if stopped is not None else None


def sla_details(session: Session, ticket: Ticket, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything the SLA package knows of a ticket: clocks, pauses, who held it, events, time entries."""
    now = now or utcnow()
    clocks = compute_clocks(session, ticket, now=now, responded=_responded(session, ticket))
    details: dict[str, Any] = {"ticket": ticket.number, "service_level": None, "clocks": {}, "pauses": [], "holds": []}
    if clocks is not None:
        details["service_level"] = clocks.service_level.name
        details["calendar"] = clocks.calendar.name
        details["clocks"] = {kind: clock_view(clocks.figures[kind], clocks.calendar) for kind in CLOCKS}
        created = aware(ticket.created_at)
        details["pauses"] = [
            {
                "reason": reason,
                "started_at": start.astimezone(clocks.calendar.tz),
                "ended_at": end.astimezone(clocks.calendar.tz) if end else None,
            }
            for reason, (start, end) in pauses_for(clocks.service_level, clocks.segments, created=created)
        ]
        details["holds"] = holds(clocks.segments, clocks.calendar, now=now)
    events = session.scalars(select(SlaEvent).where(SlaEvent.ticket_id == ticket.id).order_by(SlaEvent.id))
    details["events"] = list(events)
    entries = session.scalars(select(TimeEntry).where(TimeEntry.ticket_id == ticket.id).order_by(TimeEntry.id))
    details["time_entries"] = list(entries)
    return details


def holds(segments: list[Segment], calendar: Calendar, *, now: datetime) -> list[dict[str, Any]]:
    """How long each team and level held the ticket: wall time, working time, and working time it waited."""
    totals: dict[tuple[str, int | None], list[timedelta]] = defaultdict(lambda: [timedelta(0)] * 3)
    for segment in segments:
        if not segment.team:
            continue
        start = aware(segment.started_at)
        end = aware(segment.ended_at) if segment.ended_at is not None else now
        if segment.status in ("closed", "declined"):
            continue
        wall, working = end - start, calendar.business_time(start, end)
        waiting = working if pause_of(segment) else timedelta(0)
        held = totals[(segment.team, segment.level)]
        totals[(segment.team, segment.level)] = [held[0] + wall, held[1] + working, held[2] + waiting]
    return [
        {
            "team": team,
            "level": level,
            "held_seconds": int(wall.total_seconds()),
            "working_seconds": int(working.total_seconds()),
            "waiting_seconds": int(waiting.total_seconds()),
        }
        for (team, level), (wall, working, waiting) in sorted(
            totals.items(), key=lambda item: (item[0][0], item[0][1] or 0)
        )
    ]
