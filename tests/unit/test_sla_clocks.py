"""Clocks with time travel: running, pausing and resuming, stopping, a severity change, a deadline on a holiday."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from service.sla.calendars import Calendar
from service.sla.clocks import ClockInput, evaluate

MSK = ZoneInfo("Europe/Moscow")
HOUR = timedelta(hours=1)


def moscow(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)


@pytest.fixture(scope="module")
def business() -> Calendar:
    hours = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    return Calendar.build(name="moscow-business", timezone_name="Europe/Moscow", hours=hours, country="RU")


@pytest.fixture(scope="module")
def always() -> Calendar:
    hours = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    return Calendar.build(name="24x7", timezone_name="Europe/Moscow", hours=hours)


def test_a_running_clock_counts_business_time_only(business: Calendar) -> None:
    clock = ClockInput(start=moscow(2025, 3, 14, 17), target=2 * HOUR)  # Friday 17:00, two business hours
    with time_machine.travel(moscow(2025, 3, 15, 23), tick=False):  # Saturday night: nothing counted
        figures = evaluate(business, clock)
    assert figures.state == "running" and figures.elapsed == HOUR and figures.remaining == HOUR
    assert figures.due_at == moscow(2025, 3, 17, 10) and figures.warn_at == moscow(2025, 3, 17, 9, 36)
    with time_machine.travel(moscow(2025, 3, 17, 10, 0, 1), tick=False):
        late = evaluate(business, clock)
    assert late.state == "breached" and late.breached_at == moscow(2025, 3, 17, 10)


def test_pause_and_resume_move_the_deadline_by_the_paused_business_time(business: Calendar) -> None:
    start = moscow(2025, 3, 17, 10)
    pause = (moscow(2025, 3, 17, 10, 30), moscow(2025, 3, 17, 14))
    with time_machine.travel(moscow(2025, 3, 17, 12), tick=False):  # while it waits for the client
        paused = evaluate(business, ClockInput(start, 2 * HOUR, pauses=((pause[0], None),)))
    assert paused.state == "paused" and paused.due_at is None and paused.warn_at is None
    assert paused.elapsed == timedelta(minutes=30) and paused.paused == timedelta(minutes=90)
    with time_machine.travel(moscow(2025, 3, 17, 17), tick=False):  # the remaining time does not run while paused
        still = evaluate(business, ClockInput(start, 2 * HOUR, pauses=((pause[0], None),)))
    assert still.remaining == paused.remaining
    with time_machine.travel(moscow(2025, 3, 17, 15), tick=False):
        resumed = evaluate(business, ClockInput(start, 2 * HOUR, pauses=(pause,)))
    assert resumed.state == "running" and resumed.due_at == moscow(2025, 3, 17, 15, 30)
    assert resumed.elapsed + resumed.paused == business.business_time(start, moscow(2025, 3, 17, 15))


def test_overlapping_pauses_count_once_and_a_pause_over_the_weekend_costs_nothing_more(business: Calendar) -> None:
    start = moscow(2025, 3, 14, 16)
    pauses = ((moscow(2025, 3, 14, 17), moscow(2025, 3, 17, 11)), (moscow(2025, 3, 17, 10), moscow(2025, 3, 17, 12)))
    with time_machine.travel(moscow(2025, 3, 17, 13), tick=False):
        figures = evaluate(business, ClockInput(start, 4 * HOUR, pauses=pauses))
    assert figures.paused == 4 * HOUR  # Friday 17-18 and Monday 09-12
    assert figures.elapsed == 2 * HOUR and figures.due_at == moscow(2025, 3, 17, 15)


def test_a_stopped_clock_is_met_or_breached_and_stays_so(business: Calendar) -> None:
    start = moscow(2025, 3, 17, 10)
    on_time = ClockInput(start, 2 * HOUR, stop=moscow(2025, 3, 17, 12))  # exactly at the deadline
    late = ClockInput(start, 2 * HOUR, stop=moscow(2025, 3, 17, 12, 1))
    with time_machine.travel(moscow(2025, 4, 1), tick=False):
        met, breached = evaluate(business, on_time), evaluate(business, late)
    assert met.state == "met" and met.remaining == timedelta(0) and met.breached_at is None
    assert breached.state == "breached" and breached.breached_at == moscow(2025, 3, 17, 12)
    assert breached.remaining == -timedelta(minutes=1)


def test_a_severity_change_recomputes_the_deadline_from_the_start(business: Calendar) -> None:
    start = moscow(2025, 3, 17, 10)
    with time_machine.travel(moscow(2025, 3, 17, 11), tick=False):
        normal = evaluate(business, ClockInput(start, 8 * HOUR))
        critical = evaluate(business, ClockInput(start, 2 * HOUR))  # raised an hour later
    assert normal.due_at == moscow(2025, 3, 17, 18)
    assert critical.due_at == moscow(2025, 3, 17, 12)  # from the ticket's start, not now + 2 h
    with time_machine.travel(moscow(2025, 3, 17, 13), tick=False):
        assert evaluate(business, ClockInput(start, 2 * HOUR)).state == "breached"


def test_a_deadline_that_falls_on_a_holiday(business: Calendar, always: Calendar) -> None:
    start = moscow(2025, 12, 30, 12)  # the last working days before the New Year holidays
    with time_machine.travel(moscow(2025, 12, 31, 12), tick=False):
        silver = evaluate(business, ClockInput(start, 16 * HOUR))
        gold = evaluate(always, ClockInput(start, 16 * HOUR))
    assert silver.due_at == moscow(2026, 1, 13, 10)  # 6 h on 30 Dec; 31 Dec to 11 Jan off; 9 h on 12 Jan, 1 h on 13
    assert silver.elapsed == 6 * HOUR
    assert gold.due_at == moscow(2025, 12, 31, 4)
    assert gold.state == "breached"


def test_the_warning_comes_at_its_share_and_a_cancelled_clock_has_no_state_to_breach(business: Calendar) -> None:
    clock = ClockInput(moscow(2025, 3, 17, 9), 10 * HOUR, warn_ratio=0.8)
    with time_machine.travel(moscow(2025, 3, 17, 10), tick=False):
        figures = evaluate(business, clock)
    assert figures.warn_at == moscow(2025, 3, 17, 17)  # 8 of the 10 business hours
    cancelled = ClockInput(clock.start, clock.target, stop=moscow(2025, 3, 20), cancelled=True)
    assert evaluate(business, cancelled, now=moscow(2025, 4, 1)).state == "cancelled"


def test_time_before_the_start_counts_nothing(business: Calendar) -> None:
    with time_machine.travel(moscow(2025, 3, 17, 9), tick=False):
        figures = evaluate(business, ClockInput(moscow(2025, 3, 17, 10), HOUR))
    assert figures.elapsed == timedelta(0) and figures.due_at == moscow(2025, 3, 17, 11)
