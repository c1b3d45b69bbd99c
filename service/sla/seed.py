"""The demo's calendars and service levels (gold, silver, per_call); loading them twice changes nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.sla.models import BusinessCalendar, ServiceLevel, ServiceTarget

BUSINESS_DAY = [["09:00", "18:00"]]
CALENDARS = {
    "24x7": {
        "title": "Around the clock, every day",
        "timezone": "Europe/Moscow",
        "country": "",
        "hours": {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    },
    "moscow-business": {
        "title": "Business hours Mon-Fri 09:00-18:00 Moscow, Russian public holidays and transferred working days",
        "timezone": "Europe/Moscow",
        "country": "RU",
        "hours": {day: BUSINESS_DAY for day in ("mon", "tue", "wed", "thu", "fri")},
    },
}
# name: (title, calendar, start_on, pause_for_parts, {severity: (reaction hours, resolution hours)})
LEVELS: dict[str, tuple[str, str, str, bool, dict[str, tuple[int, int]]]] = {
    "gold": (
        "Gold: around the clock",
        "24x7",
        "created",
        False,
        {"critical": (1, 4), "high": (2, 8), "normal": (4, 24), "low": (8, 72)},
    ),
    "silver": (
        "Silver: business hours",
        "moscow-business",
        "created",
        True,
        {"critical": (2, 8), "high": (4, 16), "normal": (8, 40), "low": (16, 80)},
    ),
    "per_call": (
        "Per call: business hours from payment",
        "moscow-business",
        "paid",
        True,
        {severity: (8, 80) for severity in ("critical", "high", "normal", "low")},
    ),
}


def seed_service_levels(session: Session) -> None:
    """Create whichever of the demo calendars and service levels are missing."""
    calendars = {row.name: row for row in session.scalars(select(BusinessCalendar))}
    for name, data in CALENDARS.items():
        if name not in calendars:
            calendars[name] = BusinessCalendar(name=name, **data)
            session.add(calendars[name])
    session.flush()
    existing = set(session.scalars(select(ServiceLevel.name)))
    for name, (title, calendar, start_on, parts, targets) in LEVELS.items():
        if name in existing:
            continue
        session.add(
            ServiceLevel(
                name=name,
                title=title,
                calendar_id=calendars[calendar].id,
                start_on=start_on,
                pause_for_parts=parts,
                warn_percent=80,
                updated_by="demo",
                targets=[
                    ServiceTarget(severity=severity, reaction_minutes=60 * react, resolution_minutes=60 * resolve)
                    for severity, (react, resolve) in targets.items()
                ],
            )
        )
    session.flush()
