"""The worker's part: fire due timers once, at their moment, and late ones once when the worker returns.

A due row is claimed under a short lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two workers take two rows),
then fired in one transaction that locks the ticket's instance first, as every step does, and reads the row again:
a row another worker fired, or took over after this one's lease ran out, is left alone. The step restores the
instance, fires its timers due at the row's moment (the engine's clock is set to it, not read from the wall),
runs on and projects; the row is marked fired (a cycle's row waits again for its next moment), or dropped when its
task is gone. A step that fails records its incident and stops the ticket; the row then waits, under its lease,
until the ticket runs again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.context import Context
from service.db import first_free, lease_over, transaction, utcnow
from service.errors import ProcessFailed, ServiceError
from service.incidents.records import record_failure_apart
from service.jobs.services import WORKER_ID
from service.processes.instances import lock_instance, step_instance
from service.processes.standalone import lock_by_id, step_process
from service.tickets.history import record
from service.tickets.models import Ticket
from service.timers.models import DROPPED, FIRED, WAITING, DueTimer
from service.timers.starts import fire_start, skip_failed_start

log = logging.getLogger("orchestrator.timers")
#: The actor a fired timer's step is recorded under.
ACTOR = "timer"


@dataclass(frozen=True)
class TimerFired:
    """What one pass did with one due timer: "fired", "dropped" (its task was gone), "skipped" (another worker had
    it), "failed" (the step failed: an incident, or the ticket is stopped by one)."""

    timer_id: int
    outcome: str


def run_due_timer(ctx: Context, *, worker: str = WORKER_ID, now: datetime | None = None) -> TimerFired | None:
    """Claim and fire one due timer as `worker`; None when none is due at `now` (default: the present)."""
    now = now or utcnow()
    claimed = _claim(ctx, worker, now)
    if claimed is None:
        return None
    timer_id, starts = claimed
    try:
        outcome = _fire(ctx, timer_id, worker, now)
    except ProcessFailed as failure:
        record_failure_apart(ctx, failure)
        log.warning("timer %s: the step failed: %s", timer_id, failure.detail)
        if starts:  # no instance stands stopped: the schedule goes on
            skip_failed_start(ctx, timer_id, worker=worker, now=now)
        return TimerFired(timer_id, "failed")
    except ServiceError as error:  # the ticket is stopped by an incident: the row waits under its lease
        log.info("timer %s waits: %s", timer_id, error.detail)
        return TimerFired(timer_id, "failed")
    return TimerFired(timer_id, outcome)


def drain_timers(ctx: Context, *, now: datetime | None = None, limit: int = 1000) -> list[TimerFired]:
    """Fire every timer due at `now` in this thread; for the CLI and tests."""
    done: list[TimerFired] = []
    while len(done) < limit and (outcome := run_due_timer(ctx, now=now)) is not None:
        done.append(outcome)
    return done


def _claim(ctx: Context, worker: str, now: datetime) -> tuple[int, bool] | None:
    """The id of the due row this worker now holds, and whether it is a start event's (it has no instance)."""
    with transaction(ctx.sessions) as session:
        query = select(DueTimer).where(
            DueTimer.state == WAITING, DueTimer.due_at <= now, lease_over(DueTimer.locked_until, now)
        )
        row = first_free(session, query, DueTimer.due_at, DueTimer.id)
        if row is None:
            return None
        row.locked_until, row.locked_by = now + timedelta(seconds=ctx.config.job_lease_seconds), worker
        return row.id, row.instance_id is None


def _fire(ctx: Context, timer_id: int, worker: str, now: datetime) -> str:
    with transaction(ctx.sessions) as session:
        row = session.get(DueTimer, timer_id)
        assert row is not None
        if row.instance_id is None:  # a timer start event: a new instance
            return fire_start(session, ctx, row, worker=worker, now=now)
        if row.ticket_id is None:  # an instance beside the ticket flow
            return _fire_apart(session, ctx, row, worker, now)
        lock_instance(session, ticket_id=row.ticket_id)  # the instance first, as every step takes it
        session.refresh(row)
        if row.state != WAITING or row.locked_by != worker or row.due_at > now:
            return "skipped"
        moment = row.due_at

        step_instance(session, ctx, ticket_id=row.ticket_id, actor=ACTOR, action=_firing(row, moment, now))
        if row.fired_at != now:
            return "dropped"
        ticket = session.get(Ticket, row.ticket_id)
        assert ticket is not None
        record(session, ticket, ACTOR, "timer_fired", element=row.element_id, timer=row.kind, due_at=moment.isoformat())
        return "fired"


def _firing(row: DueTimer, moment: datetime, now: datetime) -> Callable[[Any], None]:
    """The step's action: fire the instance's timers due at the row's moment, and mark the row."""

    def fire(run: Any) -> None:
        if row.task_id in run.fire_timers(moment):
            row.state, row.fired_at, row.fired_count = FIRED, now, row.fired_count + 1
        else:  # the instance no longer waits on it: its task ended first
            row.state = DROPPED
        row.locked_until, row.updated_at = None, now

    return fire


def _fire_apart(session: Session, ctx: Context, row: DueTimer, worker: str, now: datetime) -> str:
    """A timer of an instance beside the ticket flow: the same step, by its instance, with no ticket to tell."""
    assert row.instance_id is not None
    lock_by_id(session, instance_id=row.instance_id)
    session.refresh(row)
    if row.state != WAITING or row.locked_by != worker or row.due_at > now:
        return "skipped"
    step_process(session, ctx, instance_id=row.instance_id, actor=ACTOR, action=_firing(row, row.due_at, now))
    return "fired" if row.fired_at == now else "dropped"


__all__ = ["DROPPED", "FIRED", "TimerFired", "drain_timers", "run_due_timer"]
