"""Labour time: time entries from task forms and from their own API, and utilisation against the calendar."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from service.augmented import Augmented
from service.auth.models import Caller, User
from service.auth.permissions import Permission, allowed, authorize, visible_tickets
from service.errors import Invalid, NotFound
from service.paging import Page, keyset_rows
from service.sla.levels import calendar_of
from service.sla.models import BusinessCalendar, SiteVisit, TimeEntry
from service.sla.tracking import ENGINEERING_GROUP, engineering_group
from service.tasks.models import UserTask
from service.tickets.models import Ticket

#: The calendar that gives engineers' available working hours, unless a report names another.
STAFF_CALENDAR = "moscow-business"
#: Tasks whose form `hours` are on-site work; other engineering tasks are on site at L1 and remote above.
ONSITE_TASKS = frozenset({"onsite_visit"})


def entry_from_task(
    session: Session, ticket: Ticket, *, task: UserTask, engineer: str, data: dict[str, Any], now: datetime
) -> TimeEntry | None:
    """The time entry of a completed engineering task whose form gave `hours` (once per task)."""
    queue = engineering_group(task.candidate_groups)
    hours = _hours(data.get("hours"), required=False)
    if queue is None or hours is None or hours <= 0:
        return None
    # Once per task; and not at all after a check-in: the visits' entries are the time on site, the form's would
    # count it twice. One statement for both.
    booked = select(TimeEntry.id).where(TimeEntry.task_id == task.id)
    visited = select(SiteVisit.id).where(SiteVisit.task_id == task.id)
    if session.scalar(booked.union_all(visited).limit(1)) is not None:
        return None
    team, level = queue
    kind = "onsite" if on_site(task) else "remote"
    entry = TimeEntry(
        ticket_id=ticket.id,
        engineer=engineer,
        team=team,
        level=level,
        day=staff_day(session, now),
        hours=hours,
        kind=kind,
        source="task",
        task_id=task.id,
        note=str(data.get("notes") or "")[:300],
        created_by=engineer,
    )
    session.add(entry)
    return entry


def on_site(task: UserTask) -> bool:
    """True for on-site work: an engineering task of `ONSITE_TASKS`, or any engineering task at L1."""
    queue = engineering_group(task.candidate_groups)
    return queue is not None and (task.name in ONSITE_TASKS or queue[1] <= 1)


def staff_day(session: Session, moment: datetime) -> date:
    """The day of `moment` in the staff calendar's time zone (the UTC day when there is no such calendar)."""
    calendar = _staff_calendar(session, None)
    return calendar.local_date(moment) if calendar is not None else moment.date()  # type: ignore[no-any-return]


def add_entry(session: Session, *, user: Caller, fields: dict[str, Any]) -> TimeEntry:
    """A time entry through the API: an engineer books their own time, a manager anyone's, on a ticket they see.

    A ticket the caller may not see answers 404 like one that does not exist, so booking tells nobody which
    numbers exist.
    """
    authorize(user, Permission.BOOK_TIME)
    engineer = fields.get("engineer") or user.username
    if engineer != user.username:
        authorize(user, Permission.BOOK_TIME_FOR_OTHERS)
    person = session.scalar(select(User).where(User.username == engineer))
    if person is None:
        raise Invalid("unknown engineer", errors={"engineer": [f"no user {engineer!r}"]})
    ticket = session.scalar(visible_tickets(user).where(Ticket.number == fields["ticket"]))
    if ticket is None:
        raise NotFound(f"no ticket {fields['ticket']}")
    queue = engineering_group(sorted(group.name for group in person.groups))
    team = fields.get("team") or ticket.team or (queue[0] if queue else None)
    entry = TimeEntry(
        ticket_id=ticket.id,
        engineer=engineer,
        team=team,
        level=queue[1] if queue else None,
        day=fields["day"],
        hours=_hours(fields["hours"], required=True),
        kind=fields["kind"],
        source="api",
        note=fields.get("note") or "",
        created_by=user.username,
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(
    session: Session,
    *,
    user: Caller,
    ticket: str | None = None,
    engineer: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    cursor: str | None = None,
    page_size: int = 50,
) -> Page[Augmented]:
    """A page of time entries, oldest day first: all of them for managers, an engineer's own for an engineer.

    Read by one query with the ticket's number; an entry's day and id never change, so entries booked between two
    pages neither shift the others nor appear twice."""
    authorize(user, Permission.BOOK_TIME)
    query = (
        select(TimeEntry, Ticket.number.label("ticket_number"), TimeEntry.day, TimeEntry.id)
        .join(Ticket, TimeEntry.ticket_id == Ticket.id)
        .options(lazyload(TimeEntry.ticket))
    )
    if not allowed(user, Permission.READ_ALL_TIME_ENTRIES):
        engineer = user.username
    if engineer:
        query = query.where(TimeEntry.engineer == engineer)
    if ticket:
        query = query.where(Ticket.number == ticket)
    if date_from:
        query = query.where(TimeEntry.day >= date_from)
    if date_to:
        query = query.where(TimeEntry.day <= date_to)
    page = keyset_rows(
        session, query, list_name="time-entries", keys=(TimeEntry.day, TimeEntry.id), cursor=cursor, page_size=page_size
    )
    return Page([Augmented(row["TimeEntry"], ticket_number=row["ticket_number"]) for row in page.items], page.next)


def _hours(value: Any, *, required: bool) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise Invalid("hours are missing", errors={"hours": ["Missing data for required field."]})
        return None
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise Invalid("hours are not a number", errors={"hours": ["Not a valid number."]}) from None
    if not Decimal(0) <= hours <= Decimal(24):
        raise Invalid("hours out of range", errors={"hours": ["Must be between 0 and 24."]})
    return hours


def _staff_calendar(session: Session, name: str | None) -> Any:
    row = session.scalar(select(BusinessCalendar).where(BusinessCalendar.name == (name or STAFF_CALENDAR)))
    if row is None:
        if name:
            raise NotFound(f"no calendar {name!r}")
        return None
    return calendar_of(row)


@dataclass(frozen=True)
class Utilisation:
    """Productive hours over available working hours of one engineer or team in a period."""

    key: str
    engineers: int
    available_hours: float
    productive_hours: float

    @property
    def utilisation(self) -> float | None:
        """Percent of the available hours that were productive (None when nothing was available)."""
        return round(100 * self.productive_hours / self.available_hours, 1) if self.available_hours else None


def engineers_by_team(session: Session) -> dict[str, set[str]]:
    """The members of every team's engineering queues (`<team>-L<level>`), by team."""
    teams: dict[str, set[str]] = defaultdict(set)
    for user in session.scalars(select(User)):
        for group in user.groups:
            match = ENGINEERING_GROUP.match(group.name)
            if match:
                teams[match["team"]].add(user.username)
    return teams


def utilisation(
    session: Session,
    *,
    date_from: date,
    date_to: date,
    team: str | None = None,
    group_by: str = "engineer",
    calendar: str | None = None,
) -> list[Utilisation]:
    """Utilisation per engineer (or per team) over the days from `date_from` to `date_to`, both included."""
    return utilisation_by(
        session, date_from=date_from, date_to=date_to, team=team, groups=(group_by,), calendar=calendar
    )[group_by]


def utilisation_by(
    session: Session,
    *,
    date_from: date,
    date_to: date,
    team: str | None = None,
    groups: tuple[str, ...] = ("engineer",),
    calendar: str | None = None,
) -> dict[str, list[Utilisation]]:
    """Utilisation over the days from `date_from` to `date_to` (both included) per engineer and per team, as `groups`
    asks: the calendar, the teams and the hours summed per engineer in SQL are read once for all of them."""
    staff = _staff_calendar(session, calendar)
    available = staff.working_hours(date_from, date_to) if staff is not None else 0.0
    teams = engineers_by_team(session)
    if team:
        teams = {team: teams.get(team, set())}
    query = (
        select(TimeEntry.engineer, func.sum(TimeEntry.hours))
        .where(TimeEntry.day >= date_from, TimeEntry.day <= date_to)
        .group_by(TimeEntry.engineer)
    )
    productive: dict[str, float] = defaultdict(float)
    for engineer, hours in session.execute(query):
        productive[engineer] = float(hours or 0)
    found: dict[str, list[Utilisation]] = {}
    if "team" in groups:
        found["team"] = [
            Utilisation(
                name,
                len(members),
                round(available * len(members), 2),
                round(sum(productive[m] for m in members), 2),
            )
            for name, members in sorted(teams.items())
        ]
    if "engineer" in groups:
        people = sorted(set().union(*teams.values())) if teams else []
        found["engineer"] = [
            Utilisation(person, 1, round(available, 2), round(productive[person], 2)) for person in people
        ]
    return found
