"""Dates for SLA tests: plain working weeks of the demo's Moscow business calendar, inside the demo contracts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from service.sla.calendars import Calendar
from service.sla.seed import CALENDARS

MSK = ZoneInfo("Europe/Moscow")
BUSINESS = Calendar.build(
    name="moscow-business",
    timezone_name="Europe/Moscow",
    hours=CALENDARS["moscow-business"]["hours"],
    country="RU",
)


def plain_friday(after: date) -> date:
    """The first Friday after `after` whose week and the next one are ordinary (no holiday, no transferred day)."""
    day = after + timedelta(days=(4 - after.weekday()) % 7 or 7)
    while True:
        days = [day + timedelta(days=offset) for offset in range(-4, 8)]
        if all(BUSINESS.day_kind(d)[0] in ("weekday", "weekend") for d in days):
            return day
        day += timedelta(days=7)


def at(day: date, hour: int, minute: int = 0, *, plus_days: int = 0) -> datetime:
    """A Moscow time on a day (plus some days)."""
    moment = day + timedelta(days=plus_days)
    return datetime(moment.year, moment.month, moment.day, hour, minute, tzinfo=MSK)
