"""SLA clocks as pure functions of their history: start, pauses, stop, target and calendar, at a moment.

A clock runs from its start to its stop (or to now), less its pauses, counted in its calendar's working time. Its
due moment is where that working time reaches the target; the warning's is where it reaches the warning share.
Everything follows from the inputs, so a changed severity or contract is a new evaluation of the same history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.db import utcnow
from service.sla.calendars import ZERO, Calendar, aware
from service.sla.models import BREACHED, CANCELLED, MET, PAUSED, RUNNING

Interval = tuple[datetime, datetime | None]  # an open interval has no end yet


@dataclass(frozen=True)
class ClockInput:
    """What a clock is computed from."""

    start: datetime
    target: timedelta
    pauses: tuple[Interval, ...] = ()
    stop: datetime | None = None
    warn_ratio: float = 0.8
    cancelled: bool = False


@dataclass(frozen=True)
class ClockFigures:
    """A clock at a moment: working time elapsed and paused (they add up to the working time from start to the
    stop or the moment), what remains (negative when overdue), the due and warning moments (None while paused)."""

    state: str
    started_at: datetime
    stopped_at: datetime | None
    target: timedelta
    elapsed: timedelta
    paused: timedelta
    due_at: datetime | None
    warn_at: datetime | None
    breached_at: datetime | None

    @property
    def remaining(self) -> timedelta:
        """Target less elapsed working time."""
        return self.target - self.elapsed

    @property
    def running(self) -> bool:
        """True while the clock counts (it may already be overdue)."""
        return self.stopped_at is None and self.state in (RUNNING, BREACHED) and self.due_at is not None


def merge(intervals: Iterable[Interval], *, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The union of intervals, clipped to [start, end] (an open one lasts until end)."""
    clipped = []
    for a, b in intervals:
        a, b = max(aware(a), start), min(aware(b) if b is not None else end, end)
        if b > a:
            clipped.append((a, b))
    clipped.sort()
    merged: list[tuple[datetime, datetime]] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _gaps(start: datetime, end: datetime, pauses: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """The running stretches: [start, end] less the pauses."""
    result, cursor = [], start
    for a, b in pauses:
        if a > cursor:
            result.append((cursor, a))
        cursor = max(cursor, b)
    if end > cursor:
        result.append((cursor, end))
    return result


def _reach(
    calendar: Calendar, running: list[tuple[datetime, datetime]], amount: timedelta, *, then: datetime | None
) -> datetime | None:
    """The moment the running stretches reach `amount` of working time; past their end, counting on from `then`
    (None: the clock is paused, so there is no such moment yet)."""
    remaining = amount
    for a, b in running:
        span = calendar.business_time(a, b)
        if span >= remaining:
            return calendar.add(a, remaining)
        remaining -= span
    if then is None:
        return None
    return calendar.add(then, remaining)


def evaluate(calendar: Calendar, clock: ClockInput, *, now: datetime | None = None) -> ClockFigures:
    """The clock's figures at `now` (the current time by default)."""
    now = aware(now or utcnow())
    start = aware(clock.start)
    stop = aware(clock.stop) if clock.stop is not None else None
    end = max(start, stop if stop is not None else now)
    pauses = merge(clock.pauses, start=start, end=end)
    running = _gaps(start, end, pauses)
    elapsed = sum((calendar.business_time(a, b) for a, b in running), ZERO)
    paused = sum((calendar.business_time(a, b) for a, b in pauses), ZERO)
    paused_now = stop is None and _open_pause(clock.pauses, end)
    then = None if paused_now else end
    due_at = _reach(calendar, running, clock.target, then=then)
    warn_at = _reach(calendar, running, clock.target * clock.warn_ratio, then=then)
    if clock.cancelled:
        state, breached = CANCELLED, False
    else:
        breached = elapsed > clock.target if stop is not None else elapsed >= clock.target
        if breached:
            state = BREACHED
        elif stop is not None:
            state = MET
        else:
            state = PAUSED if paused_now else RUNNING
    return ClockFigures(
        state=state,
        started_at=start,
        stopped_at=stop,
        target=clock.target,
        elapsed=elapsed,
        paused=paused,
        due_at=due_at,
        warn_at=warn_at,
        breached_at=due_at if breached else None,
    )


def _open_pause(pauses: Iterable[Interval], moment: datetime) -> bool:
    """True when a pause covers `moment` (it has no end, or ends after it)."""
    for a, b in pauses:
        if aware(a) <= moment and (b is None or aware(b) > moment):
            return True
    return False
