"""The worker's part: fire due warnings and breaches exactly once, then e-mail them.

An event is claimed with a short lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), then fired in a transaction that
first locks the ticket's instance and recomputes its clocks: an event of a clock that paused, stopped or moved on is
put back with its new moment instead. Firing records the history event, opens a breach review and sends a message
into the running instance, all in one commit; the e-mail goes out after it, with a stable Message-ID, and is retried
with backoff until it is sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from adapters.mail import OutgoingMail
from service.auth.models import Group, User
from service.context import Context
from service.db import is_postgres, transaction, utcnow
from service.errors import ServiceError
from service.observability import metrics
from service.processes.instances import step_instance
from service.processes.models import ProcessInstance
from service.sla.models import BREACH, DONE, FIRED, MAIL_FAILED, PENDING, BreachReview, SlaClock, SlaEvent
from service.sla.tracking import refresh_ticket
from service.tickets.models import HistoryEvent, Ticket

log = logging.getLogger("orchestrator.sla")
LEASE = timedelta(seconds=60)
#: The groups told of every warning and breach, besides the team's queue.
MANAGERS = "managers"


@dataclass(frozen=True)
class Fired:
    """What one pass did with one event."""

    event_id: int
    outcome: str  # "fired", "rescheduled", "mailed", "mail_retry", "mail_failed"


def run_due_event(ctx: Context, *, now: datetime | None = None) -> Fired | None:
    """Fire one due event, or send one fired event's e-mail; None when nothing is due."""
    now = now or utcnow()
    event_id = _claim(ctx, now)
    if event_id is not None:
        return _fire(ctx, event_id, now)
    event_id = _claim_mail(ctx, now)
    if event_id is not None:
        return _mail(ctx, event_id)
    return None


def drain_events(ctx: Context, *, limit: int = 1000) -> list[Fired]:
    """Fire every due event and send every e-mail now, in this thread; for the CLI and tests."""
    done: list[Fired] = []
    while len(done) < limit and (outcome := run_due_event(ctx)) is not None:
        done.append(outcome)
    return done


def _claim(ctx: Context, now: datetime) -> int | None:
    with transaction(ctx.sessions) as session:
        query = (
            select(SlaEvent)
            .where(SlaEvent.status == PENDING, SlaEvent.due_at <= now)
            .where(or_(SlaEvent.locked_until.is_(None), SlaEvent.locked_until < now))
            .order_by(SlaEvent.due_at, SlaEvent.id)
            .limit(1)
        )
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True)
        event = session.scalar(query)
        if event is None:
            return None
        event.locked_until = now + LEASE
        return event.id


def _fire(ctx: Context, event_id: int, now: datetime) -> Fired:
    with transaction(ctx.sessions) as session:
        event = session.get(SlaEvent, event_id)
        assert event is not None
        lock = select(ProcessInstance.id).where(ProcessInstance.ticket_id == event.ticket_id)
        if is_postgres(session):
            session.execute(lock.with_for_update())  # the instance first, as every step takes it
        session.refresh(event)
        ticket = session.get(Ticket, event.ticket_id)
        assert ticket is not None
        refresh_ticket(session, ticket, now=now)
        event.locked_until = None
        if event.status != PENDING or event.due_at is None or event.due_at > now:
            return Fired(event_id, "rescheduled")
        figures = _clock_detail(session, ticket, event)
        event.status, event.fired_at, event.mail_after = FIRED, now, now
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


def _claim_mail(ctx: Context, now: datetime) -> int | None:
    with transaction(ctx.sessions) as session:
        query = (
            select(SlaEvent)
            .where(SlaEvent.status == FIRED, SlaEvent.mail_after <= now)
            .order_by(SlaEvent.mail_after, SlaEvent.id)
            .limit(1)
        )
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True)
        event = session.scalar(query)
        if event is None:
            return None
        event.mail_attempts += 1
        event.mail_after = now + LEASE  # the lease: another worker takes it only if this one died
        return event.id


def _mail(ctx: Context, event_id: int) -> Fired:
    with transaction(ctx.sessions) as session:
        event = session.get(SlaEvent, event_id)
        assert event is not None
        ticket = session.get(Ticket, event.ticket_id)
        assert ticket is not None and ctx.mailer is not None
        recipients = _recipients(session, event.detail.get("team"), event.detail.get("level"))
        try:
            if recipients:
                ctx.mailer.send(_message(ctx, ticket, event, recipients))
        except Exception as error:  # noqa: BLE001 - any failure of the mail server is retried, then recorded
            event.last_error = f"{type(error).__name__}: {error}"
            if event.mail_attempts >= ctx.config.job_max_attempts:
                event.status = MAIL_FAILED
                session.add(
                    HistoryEvent(
                        ticket_id=ticket.id,
                        actor="sla",
                        kind="incident",
                        detail={"topic": "mail.sla", "error": str(error)},
                    )
                )
                return Fired(event_id, "mail_failed")
            delay = ctx.config.job_backoff_seconds * 2 ** (event.mail_attempts - 1)
            event.mail_after = utcnow() + timedelta(seconds=delay)
            return Fired(event_id, "mail_retry")
        event.status = DONE
        event.detail = {**event.detail, "recipients": list(recipients)}
        return Fired(event_id, "mailed")


def _recipients(session: Session, team: str | None, level: int | None) -> tuple[str, ...]:
    """The members of the queue holding the ticket (duty officers before routing) and the managers."""
    groups = [MANAGERS, f"{team}-L{level}" if team and level else "duty"]
    query = select(User.email).join(User.groups).where(Group.name.in_(groups), User.email != "")
    return tuple(sorted(set(session.scalars(query))))


def _message(ctx: Context, ticket: Ticket, event: SlaEvent, recipients: tuple[str, ...]) -> OutgoingMail:
    detail = event.detail
    word = "SLA breach" if event.kind == BREACH else "SLA warning"
    hours = int(detail.get("target_seconds") or 0) / 3600
    body = (
        f"Ticket {ticket.number} ({ticket.client.code}, {detail.get('service_level')}, {detail.get('severity')}): "
        f"the {event.clock} clock {'passed its deadline' if event.kind == BREACH else 'is close to its deadline'}.\n"
        f"Target: {hours:g} working hours; deadline: {detail.get('deadline')}.\n"
        f"Held by: {detail.get('team') or 'duty officers'}"
        f"{'-L' + str(detail.get('level')) if detail.get('level') else ''}.\n"
        f"{ticket.summary}\n"
    )
    domain = ctx.config.mail_sender.partition("@")[2] or "orchestrator"
    return OutgoingMail(
        to=recipients,
        subject=f"[{ticket.number}] {word}: {event.clock}",
        body=body,
        message_id=f"sla-{event.id}.{event.kind}@{domain}",
    )


__all__ = ["DONE", "FIRED", "MAIL_FAILED", "Fired", "drain_events", "run_due_event"]
