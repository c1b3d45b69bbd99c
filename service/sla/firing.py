"""The worker's part: fire due warnings and breaches exactly once, and queue their e-mails.

An event is claimed with a short lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), then fired in a transaction that
first locks the ticket's instance and recomputes its clocks: an event of a clock that paused, stopped or moved on is
put back with its new moment instead. Firing records the history event, opens a breach review and sends a message
into the running instance and queues the e-mail as a job (`service/sla/notices.py`), all in one commit: the worker
sends it like every job, a mail server that refuses it backs off and retries, and after the last attempt it is an
incident, listed and retried with the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.context import Context
from service.db import first_free, is_postgres, lease_over, transaction, utcnow
from service.errors import ServiceError
from service.jobs.models import Job
from service.observability import metrics
from service.processes.instances import step_instance
from service.processes.models import ProcessInstance
from service.rows import insert_rows
from service.sla.models import BREACH, DONE, FIRED, PENDING, BreachReview, SlaClock, SlaEvent
from service.sla.notices import notice_job
from service.sla.tracking import refresh_ticket
from service.tickets.models import HistoryEvent, Ticket

log = logging.getLogger("orchestrator.sla")


@dataclass(frozen=True)
class Fired:
    """What one pass did with one event."""

    event_id: int
    outcome: str  # "fired", "rescheduled"


def run_due_event(ctx: Context, *, now: datetime | None = None) -> Fired | None:
    """Fire one due event; None when nothing is due. Its e-mail is a job the worker runs (`sla.notices`)."""
    now = now or utcnow()
    event_id = _claim(ctx, now)
    if event_id is not None:
        return _fire(ctx, event_id, now)
    return None


def drain_events(ctx: Context, *, limit: int = 1000) -> list[Fired]:
    """Fire every due event now, in this thread (their e-mails wait in the job queue); for the CLI and tests."""
    done: list[Fired] = []
    while len(done) < limit and (outcome := run_due_event(ctx)) is not None:
        done.append(outcome)
    return done


def _claim(ctx: Context, now: datetime) -> int | None:
    with transaction(ctx.sessions) as session:
        query = select(SlaEvent).where(
            SlaEvent.status == PENDING, SlaEvent.due_at <= now, lease_over(SlaEvent.locked_until, now)
        )
        event = first_free(session, query, SlaEvent.due_at, SlaEvent.id)
        if event is None:
            return None
        event.locked_until = now + timedelta(seconds=ctx.config.job_lease_seconds)
        return event.id


def _fire(ctx: Context, event_id: int, now: datetime) -> Fired:
    with transaction(ctx.sessions) as session:
        event = session.get(SlaEvent, event_id)
        assert event is not None
        lock = select(ProcessInstance.id).where(ProcessInstance.ticket_id == event.ticket_id)
        instance_id = session.scalar(lock.with_for_update() if is_postgres(session) else lock)  # first, as a step
        session.refresh(event)
        ticket = session.get(Ticket, event.ticket_id)
        assert ticket is not None
        refresh_ticket(session, ticket, now=now)
        event.locked_until = None
        if event.status != PENDING or event.due_at is None or event.due_at > now:
            return Fired(event_id, "rescheduled")
        figures = _clock_detail(session, ticket, event)
        event.status, event.fired_at = FIRED, now
        history = HistoryEvent(ticket_id=ticket.id, actor="sla", kind=f"sla_{event.kind}", detail=figures, at=now)
        session.add(history)
        if event.kind == BREACH:
            session.add(
                BreachReview(
                    ticket_id=ticket.id,
                    event_id=event.id,
                    clock=event.clock,
                    due_at=event.due_at,
                    team=ticket.team,
                    level=ticket.level,
                    created_at=now,
                )
            )
        delivered = _tell_instance(session, ctx, ticket, event, figures)
        event.detail = history.detail = {**figures, "delivered": delivered}
        if instance_id is not None:
            insert_rows(session, Job, [notice_job(event, instance_id=instance_id)])
        else:  # a ticket whose process never started has nothing to run its job under: nothing is mailed
            event.status = DONE
        metrics.sla_fired(kind=event.kind, clock=event.clock)
        return Fired(event_id, "fired")


def _clock_detail(session: Session, ticket: Ticket, event: SlaEvent) -> dict[str, Any]:
    clock = session.scalar(select(SlaClock).where(SlaClock.ticket_id == ticket.id, SlaClock.kind == event.clock))
    assert clock is not None
    return {
        "clock": event.clock,
        "kind": event.kind,
        "due_at": event.due_at.isoformat() if event.due_at else None,
        "deadline": clock.due_at.isoformat() if clock.due_at else None,
        "service_level": clock.service_level,
        "severity": clock.severity,
        "target_seconds": clock.target_seconds,
        "team": ticket.team,
        "level": ticket.level,
    }


def _tell_instance(session: Session, ctx: Context, ticket: Ticket, event: SlaEvent, detail: dict[str, Any]) -> bool:
    """Send `sla_warning` or `sla_breach` into the ticket's instance; False when nothing there waits for it."""
    delivered: list[bool] = []
    name = f"sla_{event.kind}"

    def deliver(run: Any) -> None:
        # Only the figures the diagram's message declares land in its variables, as for every message.
        rule = run.message_rule(name)
        declared = {key: value for key, value in detail.items() if rule is not None and key in rule.variables}
        delivered.append(bool(run.send_message(name, declared)))

    try:
        step_instance(session, ctx, ticket_id=ticket.id, actor="sla", action=deliver)
    except ServiceError as error:  # a failed instance must not hide the breach: it is recorded all the same
        log.warning("ticket %s: the %s message was refused: %s", ticket.number, event.kind, error.detail)
        return False
    return bool(delivered and delivered[0])


__all__ = ["DONE", "FIRED", "Fired", "drain_events", "run_due_event"]
