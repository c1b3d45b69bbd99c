"""Running jobs: claim one, do its side effect once, complete its task; failures back off and become incidents."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, literal_column, select, update
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.context import Context
from service.db import is_postgres, transaction, utcnow
from service.errors import Conflict, NotFound, ProcessFailed, from_the_database
from service.jobs.models import DONE, FAILED, PENDING, RUNNING, Job
from service.jobs.retention import summarise
from service.jobs.topics import TOPICS, TopicCall
from service.observability import metrics, request_id
from service.paging import Page, keyset_rows
from service.processes.instances import record_incident, step_instance
from service.tickets.history import record
from service.tickets.models import Ticket

log = logging.getLogger("orchestrator.jobs")
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Outcome:
    """What happened to one job run."""

    job_id: int
    topic: str
    status: str
    error: str | None = None


def claim_job(session: Session, ctx: Context, *, worker: str = WORKER_ID) -> Job | None:
    """Take the next due job (running with an expired lease, else pending) for this worker.

    A running job whose lease expired has hung or killed its worker; once that has used up its attempts it becomes
    an incident instead of being taken again.
    """
    while True:
        now = utcnow()
        job = _first(session, _expired_running(now)) or _first(session, _pending_due(now))
        if job is None:
            return None
        if job.status == PENDING or job.attempts < ctx.config.job_max_attempts:
            break
        _give_up(session, job, f"the job's lease expired {job.attempts} times: its worker hung or stopped")
    job.status = RUNNING
    job.attempts += 1
    job.locked_by = worker
    job.locked_until = now + timedelta(seconds=ctx.config.job_lease_seconds)
    job.updated_at = now
    request_id.bind(job.request_id)  # the worker's log lines, and the jobs this one's completion creates, carry it
    return job


# The status is written into the statement, not bound: a statement PostgreSQL has prepared then still proves that
# it stays within the partial index `ix_job_due`.
_IS_PENDING = Job.status == literal_column(f"'{PENDING}'")
_IS_RUNNING = Job.status == literal_column(f"'{RUNNING}'")


def _pending_due(now: datetime) -> Select[tuple[Job]]:
    return select(Job).where(_IS_PENDING, Job.run_after <= now)


def _expired_running(now: datetime) -> Select[tuple[Job]]:
    return select(Job).where(_IS_RUNNING, Job.locked_until < now)


def _first(session: Session, query: Select[tuple[Job]]) -> Job | None:
    """The first job of one status in `ix_job_due` order: one range scan of that partial index, stopped at a match.

    Each status is asked on its own (an OR of the two made the planner read every entry of both ranges, dead ones
    of finished jobs too). Expired leases are asked first: the running range holds about one live entry per worker,
    so asking costs little, and a backlog of pending jobs cannot starve a job whose worker died.
    """
    query = query.order_by(Job.run_after, Job.id).limit(1)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True, of=Job)
    return session.scalar(query)


def run_next_job(ctx: Context, *, worker: str = WORKER_ID) -> Outcome | None:
    """Claim and run one job as `worker` (its lease names it); None when nothing is due."""
    with transaction(ctx.sessions) as session:
        job = claim_job(session, ctx, worker=worker)
        if job is None:
            return None
        job_id, topic = job.id, job.topic
    try:
        _do_effect(ctx, job_id)
        _complete(ctx, job_id, topic)
    except ProcessFailed as error:  # the diagram failed after the effect: the same step would fail again
        return _fail(ctx, job_id, topic, error, retry=False)
    except Exception as error:  # noqa: BLE001 - any failure of an adapter is retried, then an incident
        return _fail(ctx, job_id, topic, error)
    return Outcome(job_id, topic, DONE)


def _do_effect(ctx: Context, job_id: int) -> None:
    with transaction(ctx.sessions) as session:
        job = session.get(Job, job_id)
        assert job is not None
        if job.effect_done:
            return
        ticket = session.get(Ticket, job.ticket_id)
        assert ticket is not None and ctx.file_store is not None and ctx.mailer is not None
        handler = TOPICS[job.topic]
        call = TopicCall(
            session=session,
            ticket=ticket,
            variables=dict(job.variables),
            file_store=ctx.file_store,
            mailer=ctx.mailer,
            message_id=f"job-{job.id}.{job.topic}@{ctx.config.mail_sender.partition('@')[2] or 'orchestrator'}",
            request_id=job.request_id,
        )
        job.result = handler(call)
        job.effect_done = True


def _complete(ctx: Context, job_id: int, topic: str) -> None:
    with transaction(ctx.sessions) as session:
        job = session.get(Job, job_id)
        assert job is not None
        result, task_id = dict(job.result or {}), job.task_id
        step_instance(
            session,
            ctx,
            ticket_id=job.ticket_id,
            actor="worker",
            action=lambda run: run.complete_external_task(task_id, result),
        )
        metrics.job_ran(topic=job.topic, result="done", created_at=job.created_at)
        ticket = session.get(Ticket, job.ticket_id)
        assert ticket is not None
        summary = summarise(result)
        record(
            session, ticket, "worker", "job_done", topic=job.topic, attempts=job.attempts, job=job.id, result=summary
        )
        if ctx.config.job_retention_days <= 0:  # the history above is all that is kept of it
            session.delete(job)
            return
        job.status = DONE
        job.locked_until = None
        job.updated_at = utcnow()


def _fail(ctx: Context, job_id: int, topic: str, error: Exception, *, retry: bool = True) -> Outcome:
    message = f"{type(error).__name__}: {error}"
    if from_the_database(error):  # its text names the statement and its parameters: logged, never shown
        log.error("job %s (%s) failed on a database error", job_id, topic, exc_info=error)
        message = f"{type(error).__name__}: a database error (logged)"
    with transaction(ctx.sessions) as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.locked_until = None
        if isinstance(error, ProcessFailed) and not retry:
            _give_up(session, job, message, failure=error)
        elif job.attempts >= ctx.config.job_max_attempts:
            _give_up(session, job, message)
        else:
            job.last_error = message
            job.updated_at = utcnow()
            job.status = PENDING
            metrics.job_ran(topic=topic, result="retry")
            delay = ctx.config.job_backoff_seconds * 2 ** (job.attempts - 1)
            job.run_after = utcnow() + timedelta(seconds=delay)
        return Outcome(job_id, topic, job.status, message)


def _give_up(session: Session, job: Job, message: str, *, failure: ProcessFailed | None = None) -> None:
    """Turn a job into an incident: failed, waiting for a person, and told in the ticket's history."""
    job.status = FAILED
    job.last_error = message
    job.locked_until = None
    job.updated_at = utcnow()
    metrics.job_ran(topic=job.topic, result="incident", created_at=job.created_at)
    if failure is not None:  # the diagram failed: the event names the element, as for a person's step
        record_incident(session, failure, topic=job.topic, job=job.id)
        return
    ticket = session.get(Ticket, job.ticket_id)
    assert ticket is not None
    record(session, ticket, "worker", "incident", topic=job.topic, error=message, job=job.id)


def list_incidents(session: Session, *, user: Caller, cursor: str | None = None, page_size: int = 50) -> Page[Any]:
    """A page of the jobs that failed every attempt and wait for a person, oldest first, by one query of the columns
    an incident shows (the job's id orders it; a retried job leaves the list, a new failure joins it at the end)."""
    authorize(user, Permission.HANDLE_INCIDENTS)
    query = (
        select(
            Job.id,
            Ticket.number.label("ticket_number"),
            Job.topic,
            Job.element_id,
            Job.attempts,
            Job.last_error,
            Job.status,
            Job.updated_at,
        )
        .join(Ticket, Ticket.id == Job.ticket_id)
        .where(Job.status == FAILED)
    )
    return keyset_rows(session, query, list_name="incidents", keys=(Job.id,), cursor=cursor, page_size=page_size)


def retry_incident(session: Session, *, user: Caller, job_id: int) -> Job:
    """Put a failed job back in the queue with a fresh count of attempts."""
    authorize(user, Permission.HANDLE_INCIDENTS)
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no incident {job_id}")
    if job.status != FAILED:
        raise Conflict(f"job {job_id} is {job.status}, not an incident")
    # Only while it is still failed: of two retrying at once the second changes nothing (PostgreSQL re-reads the row
    # it waited for), so a job a worker took after the first retry is not put back in the queue under it.
    retried = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == FAILED)
        .values(status=PENDING, attempts=0, run_after=utcnow(), last_error=job.last_error, updated_at=utcnow())
    )
    if retried.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"job {job_id} was retried by someone else meanwhile")
    session.refresh(job)
    ticket = session.get(Ticket, job.ticket_id)
    assert ticket is not None
    record(session, ticket, user.username, "incident_retried", topic=job.topic, job=job.id)
    return job
