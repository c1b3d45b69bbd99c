"""Service levels and their calendars as the clocks use them: immutable snapshots, cached per process."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.sla.calendars import Calendar, ExtraDay, aware, parse_hours
from service.sla.models import BusinessCalendar, ServiceLevel


@dataclass(frozen=True)
class Target:
    """Reaction and resolution targets of one severity, in minutes."""

    reaction_minutes: int
    resolution_minutes: int


@dataclass(frozen=True)
class Level:
    """A service level as the clocks use it: an immutable snapshot, shared by the requests of a process."""

    name: str
    calendar_id: int
    calendar: Calendar
    start_on: str
    pause_for_parts: bool
    warn_percent: int
    targets: Mapping[str, Target]

    def target_for(self, severity: str) -> Target | None:
        """The targets for a severity."""
        return self.targets.get(severity)


#: Snapshots by name, with the time they were read; a process trusts one for LEVEL_REFRESH_SECONDS.
_LEVELS: dict[str, tuple[float, Level | None]] = {}
LEVEL_REFRESH_SECONDS = 1.0


def forget_service_levels() -> None:
    """Drop the cached snapshots (after an administrator changed a level or a calendar in this process)."""
    _LEVELS.clear()


def find_service_level(session: Session, name: str) -> Level | None:
    """The service level of a name; an administrator's change reaches every process within a second."""
    if not name:
        return None
    cached = _LEVELS.get(name)
    if cached is not None and time.monotonic() - cached[0] < LEVEL_REFRESH_SECONDS:
        return cached[1]
    level = _load_level(session, name)
    _LEVELS[name] = (time.monotonic(), level)
    return level


def _load_level(session: Session, name: str) -> Level | None:
    row = session.scalar(select(ServiceLevel).where(ServiceLevel.name == name))
    if row is None:
        return None
    return Level(
        name=row.name,
        calendar_id=row.calendar_id,
        calendar=calendar_of(row.calendar),
        start_on=row.start_on,
        pause_for_parts=row.pause_for_parts,
        warn_percent=row.warn_percent,
        targets={t.severity: Target(t.reaction_minutes, t.resolution_minutes) for t in row.targets},
    )


_CALENDARS: dict[tuple[int, datetime], Calendar] = {}


def calendar_of(row: BusinessCalendar) -> Calendar:
    """The calendar of a row, cached per process until the row changes."""
    key = (row.id, aware(row.updated_at))
    cached = _CALENDARS.get(key)
    if cached is None:
        extra = {
            day.day: ExtraDay(day.working, parse_hours([(day.start, day.end)]) if day.start and day.end else None)
            for day in row.days
        }
        cached = Calendar.build(
            name=row.name, timezone_name=row.timezone, hours=row.hours, country=row.country, extra=extra
        )
        if len(_CALENDARS) > 64:
            _CALENDARS.clear()
        _CALENDARS[key] = cached
    return cached
