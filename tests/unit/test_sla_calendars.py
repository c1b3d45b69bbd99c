"""Business-time arithmetic: nights, weekends, Russian holidays and transferred working days, year ends, DST."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from service.sla.calendars import Calendar, CalendarError, ExtraDay, parse_hours

MSK = ZoneInfo("Europe/Moscow")
BUSINESS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def moscow(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)


@pytest.fixture(scope="module")
def business() -> Calendar:
    return Calendar.build(name="moscow-business", timezone_name="Europe/Moscow", hours=BUSINESS, country="RU")


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (moscow(2025, 3, 17, 10), 2, moscow(2025, 3, 17, 12)),  # within a day
        (moscow(2025, 3, 17, 9), 9, moscow(2025, 3, 17, 18)),  # exactly to the end of the day, not the next morning
        (moscow(2025, 3, 17, 17), 2, moscow(2025, 3, 18, 10)),  # over a night
        (moscow(2025, 3, 17, 7, 30), 1, moscow(2025, 3, 17, 10)),  # before the day starts
        (moscow(2025, 3, 14, 17), 2, moscow(2025, 3, 17, 10)),  # over a weekend
        (moscow(2025, 3, 15, 12), 1, moscow(2025, 3, 17, 10)),  # from a Saturday
        (moscow(2025, 6, 11, 17), 2, moscow(2025, 6, 16, 10)),  # Russia Day, its bridge day and the weekend
        (moscow(2025, 10, 31, 17), 2, moscow(2025, 11, 1, 10)),  # Saturday 1 November 2025 is a working day
        (moscow(2025, 11, 1, 17), 2, moscow(2025, 11, 5, 10)),  # then 2-4 November are off
        (moscow(2025, 12, 30, 17), 2, moscow(2026, 1, 12, 10)),  # year end: 31 Dec off, 1-11 Jan off
        (moscow(2024, 12, 27, 17), 2, moscow(2024, 12, 28, 10)),  # Saturday 28 Dec 2024 is a working day
        (moscow(2025, 3, 17, 10), 40, moscow(2025, 3, 21, 14)),  # a week of business hours
    ],
)
def test_add_business_time(business: Calendar, start: datetime, hours: int, due: datetime) -> None:
    assert business.add(start, timedelta(hours=hours)) == due
    assert business.business_time(start, due) == timedelta(hours=hours)


def test_the_holidays_come_from_the_library_with_their_kinds(business: Calendar) -> None:
    assert business.day_kind(date(2025, 11, 1))[0] == "transferred"
    assert business.day_kind(date(2025, 11, 4))[0] == "holiday"
    assert business.day_kind(date(2025, 12, 31))[0] == "holiday"
    assert business.day_kind(date(2025, 11, 8))[0] == "weekend"
    exceptions = {day: kind for day, kind, _ in business.year_exceptions(2025)}
    assert exceptions[date(2025, 11, 1)] == "transferred" and exceptions[date(2025, 1, 1)] == "holiday"


def test_working_hours_of_a_month_match_the_production_calendar(business: Calendar) -> None:
    # November 2025 has 19 working days in the Russian production calendar; January 2026 has 15.
    assert business.working_hours(date(2025, 11, 1), date(2025, 11, 30)) == 19 * 9
    assert business.working_hours(date(2026, 1, 1), date(2026, 1, 31)) == 15 * 9


def test_a_round_trip_of_add_and_business_time_holds_anywhere(business: Calendar) -> None:
    rng = random.Random(3)
    start = datetime(2024, 12, 1, tzinfo=timezone.utc)
    for _ in range(300):
        moment = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 400))
        amount = timedelta(minutes=rng.randrange(1, 60 * 90))
        due = business.add(moment, amount)
        assert business.business_time(moment, due) == amount
        assert due.astimezone(MSK).hour * 60 + due.astimezone(MSK).minute in range(9 * 60 + 1, 18 * 60 + 1)
        assert business.day_kind(due.astimezone(MSK).date())[1]


def test_around_the_clock_counts_holidays_and_nights() -> None:
    always = Calendar.build(name="24x7", timezone_name="Europe/Moscow", hours=ALWAYS)
    assert always.add(moscow(2025, 12, 31, 22), timedelta(hours=4)) == moscow(2026, 1, 1, 2)
    assert always.business_time(moscow(2025, 1, 1), moscow(2026, 1, 1)) == timedelta(days=365)


def test_daylight_saving_is_exact_in_a_zone_that_has_it() -> None:
    always = Calendar.build(name="berlin-24x7", timezone_name="Europe/Berlin", hours=ALWAYS)
    berlin = ZoneInfo("Europe/Berlin")
    # 30 March 2025: 02:00 becomes 03:00, the local day has 23 hours
    assert always.business_time(
        datetime(2025, 3, 30, tzinfo=berlin), datetime(2025, 3, 31, tzinfo=berlin)
    ) == timedelta(hours=23)
    assert always.add(datetime(2025, 3, 30, 0, 0, tzinfo=berlin), timedelta(hours=3)) == datetime(
        2025, 3, 30, 4, 0, tzinfo=berlin
    )
    office = Calendar.build(name="berlin", timezone_name="Europe/Berlin", hours=BUSINESS, country="DE")
    due = office.add(datetime(2025, 3, 28, 17, tzinfo=berlin), timedelta(hours=2))
    assert due == datetime(2025, 3, 31, 10, tzinfo=berlin)
    assert due.astimezone(timezone.utc) == datetime(2025, 3, 31, 8, tzinfo=timezone.utc)


def test_extra_days_off_and_working_days_with_their_own_hours() -> None:
    extra = {
        date(2025, 3, 18): ExtraDay(working=False),  # a Tuesday off
        date(2025, 3, 22): ExtraDay(working=True, hours=parse_hours([["10:00", "14:00"]])),  # a short Saturday
    }
    calendar = Calendar.build(name="x", timezone_name="Europe/Moscow", hours=BUSINESS, country="RU", extra=extra)
    assert calendar.add(moscow(2025, 3, 17, 17), timedelta(hours=2)) == moscow(2025, 3, 19, 10)
    assert calendar.add(moscow(2025, 3, 21, 17), timedelta(hours=3)) == moscow(2025, 3, 22, 12)
    assert calendar.working_hours(date(2025, 3, 22), date(2025, 3, 22)) == 4


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        ({"mon": [["18:00", "09:00"]]}, "hours.mon"),
        ({"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}, "hours.mon"),
        ({"mon": [["9", "18:00"]]}, "hours.mon"),
        ({"monday": [["09:00", "18:00"]]}, "hours"),
    ],
)
def test_unusable_hours_are_refused_with_the_field(hours: dict, field: str) -> None:
    with pytest.raises(CalendarError) as caught:
        Calendar.build(name="x", timezone_name="Europe/Moscow", hours=hours)
    assert caught.value.field == field


def test_an_unknown_zone_or_country_is_refused_and_no_working_time_ends_the_search() -> None:
    with pytest.raises(CalendarError, match="timezone"):
        Calendar.build(name="x", timezone_name="Mars/Olympus", hours=BUSINESS)
    with pytest.raises(CalendarError, match="country"):
        Calendar.build(name="x", timezone_name="UTC", hours=BUSINESS, country="XX")
    never = Calendar.build(name="never", timezone_name="UTC", hours={})
    with pytest.raises(CalendarError):
        never.add(datetime(2025, 1, 1, tzinfo=timezone.utc), timedelta(hours=1))
