"""Business calendars and exact business-time arithmetic (pure: no database, no clock).

A calendar is working hours per weekday in a time zone, a country's public holidays with its transferred working
days (from the `holidays` library), and per-calendar extra days off or working days. Times go in and out as aware
datetimes; the arithmetic walks the local days and converts each working interval to UTC, so nights, weekends,
holidays, year ends and daylight-saving changes all come out exact.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: A search for working time gives up after this many days without any (a calendar with no working time).
MAX_DAYS = 3700
ZERO = timedelta(0)

Hours = tuple[tuple[int, int], ...]  # (start minute, end minute) of the local day; 1440 ends it


class CalendarError(ValueError):
    """A calendar's data is unusable; `field` names what is wrong."""

    def __init__(self, field_name: str, detail: str) -> None:
        super().__init__(f"{field_name}: {detail}")
        self.field = field_name
        self.detail = detail


def parse_minute(text: str, *, field_name: str = "hours") -> int:
    """Minutes since midnight of "HH:MM" ("24:00" is the end of the day)."""
    try:
        hours, minutes = (int(part) for part in text.split(":"))
    except ValueError:
        raise CalendarError(field_name, f"{text!r} is not HH:MM") from None
    if not (0 <= minutes < 60 and 0 <= hours <= 24) or (hours == 24 and minutes):
        raise CalendarError(field_name, f"{text!r} is not a time of day")
    return hours * 60 + minutes


def parse_hours(spans: Iterable[Sequence[str]], *, field_name: str = "hours") -> Hours:
    """Working spans of a day from [["09:00", "13:00"], ["14:00", "18:00"]]: sorted, not overlapping."""
    parsed = sorted(
        (parse_minute(s[0], field_name=field_name), parse_minute(s[1], field_name=field_name)) for s in spans
    )
    previous_end = -1
    for start, end in parsed:
        if start >= end:
            raise CalendarError(field_name, "a span must end after it starts")
        if start < previous_end:
            raise CalendarError(field_name, "spans overlap")
        previous_end = end
    return tuple(parsed)


def zone(name: str) -> ZoneInfo:
    """The time zone of an IANA name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError("timezone", f"unknown time zone {name!r}") from None


def check_country(code: str) -> None:
    """Refuse a country the holidays library does not know."""
    if code and code not in holidays.list_supported_countries():
        raise CalendarError("country", f"the holidays library has no country {code!r}")


@dataclass(frozen=True)
class ExtraDay:
    """A per-calendar exception: a day off, or a working day with its hours (None: the standard day)."""

    working: bool
    hours: Hours | None = None


@dataclass(frozen=True, eq=False)
class Calendar:
    """An immutable business calendar; build one with `Calendar.build`."""

    name: str
    tz: ZoneInfo
    weekly: tuple[Hours, ...]  # Monday first
    country: str = ""
    extra: Mapping[date, ExtraDay] = field(default_factory=dict)
    _years: dict[int, tuple[frozenset[date], frozenset[date]]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def build(
        cls,
        *,
        name: str,
        timezone_name: str,
        hours: Mapping[str, Iterable[Sequence[str]]],
        country: str = "",
        extra: Mapping[date, ExtraDay] | None = None,
    ) -> Calendar:
        """A calendar from its data (weekday names to spans); CalendarError when the data is unusable."""
        unknown = set(hours) - set(WEEKDAYS)
        if unknown:
            raise CalendarError("hours", f"unknown weekdays {sorted(unknown)}; use {', '.join(WEEKDAYS)}")
        check_country(country)
        weekly = tuple(parse_hours(hours.get(day, ()), field_name=f"hours.{day}") for day in WEEKDAYS)
        return cls(name=name, tz=zone(timezone_name), weekly=weekly, country=country, extra=dict(extra or {}))

    @property
    def standard_day(self) -> Hours:
        """The hours of a normal working day (of the first weekday that has any): a transferred working day's."""
        return next((hours for hours in self.weekly if hours), ())

    def _year(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        """The country's days off and working weekend days of a year, cached."""
        cached = self._years.get(year)
        if cached is not None:
            return cached
        if not self.country:
            result: tuple[frozenset[date], frozenset[date]] = (frozenset(), frozenset())
        else:
            with self._lock:
                official = holidays.country_holidays(self.country, years=year)
                result = (frozenset(official), frozenset(official.weekend_workdays))
        self._years[year] = result
        return result

    def day_kind(self, day: date) -> tuple[str, Hours]:
        """Why the day is or is not a working day ("weekday", "weekend", "holiday", "transferred", "extra"), and its
        hours."""
        extra = self.extra.get(day)
        if extra is not None:
            return "extra", (extra.hours or self.standard_day) if extra.working else ()
        days_off, working_weekends = self._year(day.year)
        if day in working_weekends:
            return "transferred", self.standard_day
        if day in days_off:
            return "holiday", ()
        hours = self.weekly[day.weekday()]
        return ("weekday" if hours else "weekend"), hours

    def hours_on(self, day: date) -> Hours:
        """The working spans of a local day."""
        return self.day_kind(day)[1]

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of a local day, as aware UTC datetimes."""
        result = []
        for start, end in self.hours_on(day):
            result.append((self._instant(day, start), self._instant(day, end)))
        return result

    def _instant(self, day: date, minute: int) -> datetime:
        if minute >= 1440:
            day, minute = day + timedelta(days=1), minute - 1440
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.tz)
        return local.astimezone(timezone.utc)

    def local_date(self, moment: datetime) -> date:
        """The calendar's local date of an instant."""
        return aware(moment).astimezone(self.tz).date()

    def business_time(self, start: datetime, end: datetime) -> timedelta:
        """The working time between two instants (zero when end is not after start)."""
        start, end = aware(start), aware(end)
        if end <= start:
            return ZERO
        total = ZERO
        day, last = self.local_date(start), self.local_date(end)
        while day <= last:
            for a, b in self.intervals_on(day):
                a, b = max(a, start), min(b, end)
                if b > a:
                    total += b - a
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which `amount` of working time after `start` has passed."""
        start = aware(start)
        remaining = amount
        if remaining <= ZERO:
            return start
        day = self.local_date(start)
        for _ in range(MAX_DAYS):
            for a, b in self.intervals_on(day):
                if b <= start:
                    continue
                a = max(a, start)
                if b - a >= remaining:
                    return a + remaining
                remaining -= b - a
            day += timedelta(days=1)
        raise CalendarError("hours", f"calendar {self.name!r} has no working time within {MAX_DAYS} days")

    def working_hours(self, first: date, last: date) -> float:
        """Working hours of the local days from `first` to `last`, both included."""
        total = ZERO
        day = first
        while day <= last:
            for a, b in self.intervals_on(day):
                total += b - a
            day += timedelta(days=1)
        return total.total_seconds() / 3600

    def year_exceptions(self, year: int) -> list[tuple[date, str, Hours]]:
        """Every day of a year that differs from its weekday's rule: holidays, transferred and extra days."""
        day, result = date(year, 1, 1), []
        while day.year == year:
            kind, hours = self.day_kind(day)
            if kind in ("holiday", "transferred", "extra"):
                result.append((day, kind, hours))
            day += timedelta(days=1)
        return result


def aware(moment: datetime) -> datetime:
    """An aware datetime (a naive one, as SQLite gives back, is UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def format_minute(minute: int) -> str:
    """ "HH:MM" of minutes since midnight."""
    return f"{minute // 60:02d}:{minute % 60:02d}"
