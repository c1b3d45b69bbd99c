"""Running jobs: claim one, do its side effect once, complete its task; failures back off and become incidents
(listed and retried with the others, `service.incidents.services`)."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, false, literal_column, select
from sqlalchemy.orm import Session

from service.context import Context
from service.db import is_postgres, transaction, utcnow
from service.errors import ProcessFailed, from_the_database
from service.incidents.models import JOB
from service.incidents.records import open_incident, record_failure
from service.jobs.models import DONE, FAILED, PENDING, RUNNING, Job
from service.jobs.retention import summarise
from service.jobs.topics import NOTICES, TOPICS, BpmnError, TopicCall
from service.observability import metrics, request_id
from service.processes.instances import step_instance
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
        give_up(session, job, f"the job's lease expired {job.attempts} times: its worker hung or stopped")
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
#: Jobs of topics left to outside workers (`service.jobs.external`) are never claimed here; `ix_job_due` holds none.
_BUILT_IN = Job.external == false()


def _pending_due(now: datetime) -> Select[tuple[Job]]:
    return select(Job).where(_IS_PENDING, _BUILT_IN, Job.run_after <= now)


def _expired_running(now: datetime) -> Select[tuple[Job]]:
    return select(Job).where(_IS_RUNNING, _BUILT_IN, Job.locked_until < now)


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
        try:
            _do_effect(ctx, job_id)
        except BpmnError as thrown:  # nothing was done: the diagram handles it, or it is an incident
            _throw(ctx, job_id, thrown)
        else:
            _complete(ctx, job_id, topic)
    except ProcessFailed as error:  # the diagram failed after the effect: the same step would fail again
        return fail_job(ctx, job_id, topic, error, retry=False)
    except Exception as error:  # noqa: BLE001 - any failure of an adapter is retried, then an incident
        return fail_job(ctx, job_id, topic, error)
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
        finish_job(session, ctx, job, actor="worker")


def _throw(ctx: Context, job_id: int, thrown: BpmnError) -> None:
    with transaction(ctx.sessions) as session:
        job = session.get(Job, job_id)
        assert job is not None
        throw_job_error(session, ctx, job, thrown, actor="worker")


def throw_job_error(session: Session, ctx: Context, job: Job, thrown: BpmnError, *, actor: str) -> None:
    """Throw a BPMN error of the job's task (its adapter's, or an outside worker's) into the instance, as `actor`: the
    error boundary event catching it runs its path, and the job is done.

    When nothing catches it the step fails (ProcessFailed): the caller makes it an incident naming the code, at once,
    for the work would end the same way again.
    """
    task_id = job.task_id
    caught = step_instance(
        session,
        ctx,
        ticket_id=job.ticket_id,
        actor=actor,
        action=lambda run: run.throw_bpmn_error(task_id, thrown.code, thrown.message, thrown.variables),
    )
    metrics.job_ran(topic=job.topic, result="bpmn_error", created_at=job.created_at)
    ticket = session.get(Ticket, job.ticket_id)
    assert ticket is not None
    record(
        session,
        ticket,
        actor,
        "bpmn_error",
        topic=job.topic,
        code=thrown.code,
        message=thrown.message,
        element=job.element_id,
        caught_by=caught,
        job=job.id,
    )
    job.result = {"bpmn_error": thrown.code}
    _mark_done(session, ctx, job)


def _mark_done(session: Session, ctx: Context, job: Job) -> None:
    """The job ended: deleted when no done job is kept (its history is all that stays), else marked done."""
    if ctx.config.job_retention_days <= 0:
        session.delete(job)
        return
    job.status = DONE
    job.locked_until = None
    job.updated_at = utcnow()


def finish_job(session: Session, ctx: Context, job: Job, *, actor: str) -> None:
    """Complete the job's task with its result and step the instance on, as `actor` (the worker, or the account of
    an outside worker); the history tells it, and the job is done (or deleted when no retention is kept)."""
    result, task_id = dict(job.result or {}), job.task_id
    if job.topic not in NOTICES:  # a notice (an SLA mail) has no task in the process to complete
        step_instance(
            session,
            ctx,
            ticket_id=job.ticket_id,
            actor=actor,
            action=lambda run: run.complete_external_task(task_id, result),
        )
    metrics.job_ran(topic=job.topic, result="done", created_at=job.created_at)
    ticket = session.get(Ticket, job.ticket_id)
    assert ticket is not None
    summary = summarise(result)
    record(session, ticket, actor, "job_done", topic=job.topic, attempts=job.attempts, job=job.id, result=summary)
    _mark_done(session, ctx, job)


def fail_job(ctx: Context, job_id: int, topic: str, error: Exception, *, retry: bool = True) -> Outcome:
    """Record a failed run: back in the queue after a backoff, or an incident once its attempts are used up (or at
    once, when the diagram failed after the effect and `retry` is off)."""
    message = f"{type(error).__name__}: {error}"
    if from_the_database(error):  # its text names the statement and its parameters: logged, never shown
        log.error("job %s (%s) failed on a database error", job_id, topic, exc_info=error)
        message = f"{type(error).__name__}: a database error (logged)"
    with transaction(ctx.sessions) as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.locked_until = None
        if isinstance(error, ProcessFailed) and not retry:
            give_up(session, job, message, failure=error)
        elif job.attempts >= ctx.config.job_max_attempts:
            give_up(session, job, message)
        else:
            job.last_error = message
            job.updated_at = utcnow()
            job.status = PENDING
            metrics.job_ran(topic=topic, result="retry")
            delay = ctx.config.job_backoff_seconds * 2 ** (job.attempts - 1)
            job.run_after = utcnow() + timedelta(seconds=delay)
        return Outcome(job_id, topic, job.status, message)


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
    ticket = session.get(Ticket, job.ticket_id)
    assert ticket is not None
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
