"""How a job run ends: done, with its history row; failed, due again after a backoff; or an incident."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from service.context import Context
from service.db import transaction, utcnow
from service.errors import ProcessFailed, from_the_database
from service.incidents.models import JOB
from service.incidents.records import open_incident, record_failure
from service.jobs.models import DONE, FAILED, PENDING, Job
from service.jobs.retention import summarise
from service.observability import metrics
from service.rows import write_changes
from service.tickets.history import history_row
from service.tickets.models import Ticket

log = logging.getLogger("orchestrator.jobs")


Result = dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """What happened to one job run; `chain`: the jobs run after it in the same step."""

    job_id: int
    topic: str
    status: str
    error: str | None = None
    chain: tuple[Outcome, ...] = ()


def done_row(
    session: Session,
    ctx: Context,
    job: Job,
    ticket: Ticket,
    result: Result,
    *,
    actor: str = "worker",
    mark: bool = True,
) -> dict[str, Any]:
    """The job done (or deleted when no done job is kept) unless it was written done (`mark` False); its history
    row, to write."""
    metrics.job_ran(topic=job.topic, result="done", created_at=job.created_at)
    detail = {"topic": job.topic, "attempts": job.attempts, "job": job.id, "result": summarise(result)}
    if mark:
        mark_done(session, ctx, job)
    return history_row(ticket, actor, "job_done", detail)


def mark_done(session: Session, ctx: Context, job: Job) -> None:
    """The job ended: deleted when no done job is kept (its history is all that stays), else marked done."""
    if ctx.config.job_retention_days <= 0:
        session.delete(job)
        return
    job.status = DONE
    job.locked_until = None
    job.updated_at = utcnow()
    write_changes(session, job)


def failure_message(job_id: int, topic: str, error: Exception) -> str:
    if from_the_database(error):  # its text names the statement and its parameters: logged, never shown
        log.error("job %s (%s) failed on a database error", job_id, topic, exc_info=error)
        return f"{type(error).__name__}: a database error (logged)"
    return f"{type(error).__name__}: {error}"


def fail_job(ctx: Context, job_id: int, topic: str, error: Exception, *, retry: bool = True) -> Outcome:
    """Record a failed run: back in the queue after a backoff, or an incident once its attempts are used up (or at
    once, when the diagram failed after the effect and `retry` is off)."""
    message = failure_message(job_id, topic, error)
    with transaction(ctx.sessions) as session:
        job = session.get(Job, job_id)
        assert job is not None
        record_failed_attempt(session, ctx, job, message, error, retry=retry)
        return Outcome(job_id, topic, job.status, message)


def record_failed_attempt(
    session: Session, ctx: Context, job: Job, message: str, error: Exception, *, retry: bool = True
) -> None:
    """A failed attempt of `job`: due again after a backoff, or an incident once its attempts are used up; nothing
    when a step has cancelled its task meanwhile (the job is done)."""
    if job.status == DONE:
        return
    job.locked_until = None
    if isinstance(error, ProcessFailed) and not retry:
        give_up(session, job, message, failure=error)
    elif job.attempts >= ctx.config.job_max_attempts:
        give_up(session, job, message)
    else:
        job.last_error = message
        job.updated_at = utcnow()
        job.status = PENDING
        metrics.job_ran(topic=job.topic, result="retry")
        delay = ctx.config.job_backoff_seconds * 2 ** (job.attempts - 1)
        job.run_after = utcnow() + timedelta(seconds=delay)


def give_up(session: Session, job: Job, message: str, *, failure: ProcessFailed | None = None) -> None:
    """Turn a job into an incident: failed, waiting for a person, and told in the ticket's history."""
    job.status = FAILED
    job.last_error = message
    job.locked_until = None
    job.updated_at = utcnow()
    metrics.job_ran(topic=job.topic, result="incident", created_at=job.created_at)
    if failure is not None:  # the diagram failed: the incident names the element and stops the ticket there
        record_failure(session, failure, job=job)
        return
    ticket = session.get(Ticket, job.ticket_id) if job.ticket_id is not None else None  # none: beside the flow
    event = {"topic": job.topic, "job": job.id}
    open_incident(
        session,
        ticket,
        actor="worker",
        kind=JOB,
        error=message,
        stop=False,
        element_id=job.element_id,
        job=job,
        event=event,
    )
