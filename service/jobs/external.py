"""External tasks, Camunda's pattern: jobs of topics no adapter of the service serves are left to outside workers (a
partner's system, the warehouse's ERP), which fetch and lock them, then complete them with variables, report a
failure or a BPMN error, or extend their lock.

They are rows of the job table (`Job.external`): the built-in worker never claims them. Fetch-and-lock claims due
ones for the outside worker's id under a lock (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two workers never get one
task); a lock that expired makes the task fetchable again. Only the lock's holder may complete, fail or extend it
(409); a task the caller's account does not serve is not found (404). Each call runs in transactions of its own, as
the built-in worker's do, so a long poll holds no transaction while it waits.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, literal_column, select, true
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.auth.permissions import Permission, authorize, may_serve_topic
from service.context import Context
from service.db import is_postgres, transaction, utcnow
from service.errors import Conflict, Forbidden, Invalid, NotFound, ProcessFailed
from service.jobs.models import PENDING, RUNNING, Job
from service.jobs.records import fail_job, give_up
from service.jobs.services import finish_job, throw_job_error
from service.jobs.topics import TOPICS, BpmnError
from service.observability import metrics

#: The longest a fetch-and-lock waits for a task (`asyncResponseTimeout` is cut to it): below gunicorn's worker
#: timeout (30 s by default), which would otherwise end the waiting process.
LONG_POLL_CAP_SECONDS = 20.0
#: How often a waiting fetch-and-lock looks at the table again.
LONG_POLL_EVERY_SECONDS = 0.5


@dataclass(frozen=True)
class TopicRequest:
    """One topic a worker fetches: how long to lock its tasks, and which variables to send (None: all)."""

    name: str
    lock_ms: int
    variables: tuple[str, ...] | None = None


@dataclass(frozen=True)
class LockedTask:
    """A task locked for an outside worker, with what it needs to do it."""

    id: int
    topic: str
    worker_id: str
    lock_expiration_time: datetime
    process_instance_id: int
    activity_id: str
    business_key: str | None
    retries: int | None
    error_message: str | None
    created_at: datetime
    variables: dict[str, Any]


def fetch_and_lock(
    ctx: Context,
    *,
    user: Caller,
    worker_id: str,
    topics: Sequence[TopicRequest],
    max_tasks: int,
    wait_ms: int = 0,
) -> list[LockedTask]:
    """Lock up to `max_tasks` due tasks of `topics` for `worker_id`, oldest first; when none is due, look again every
    `LONG_POLL_EVERY_SECONDS` for up to `wait_ms` (at most `LONG_POLL_CAP_SECONDS`). 403 for a topic the account
    does not serve; 422 for a topic the service's own adapter serves (its tasks are never external)."""
    authorize(user, Permission.WORK_EXTERNAL_TASKS)
    refused = sorted({topic.name for topic in topics if not may_serve_topic(user, topic.name)})
    if refused:
        raise Forbidden(f"this account serves no topic {', '.join(refused)} (its worker topics name the ones it does)")
    built_in = sorted({topic.name for topic in topics if topic.name in TOPICS})
    if built_in:
        raise Invalid(
            f"the service's own worker runs {', '.join(built_in)}: its tasks are never external",
            errors={"topics": [f"{name} is served by an adapter of the service" for name in built_in]},
        )
    deadline = time.monotonic() + min(wait_ms / 1000, LONG_POLL_CAP_SECONDS)
    while True:
        with transaction(ctx.sessions) as session:
            locked = _lock(session, worker_id, {topic.name: topic for topic in topics}, max_tasks)
        left = deadline - time.monotonic()
        if locked or left <= 0 or max_tasks == 0:
            return locked
        time.sleep(min(LONG_POLL_EVERY_SECONDS, left))


# Written into the statement, not bound, as the built-in claim does: PostgreSQL then proves the query stays within
# the partial index `ix_job_external`.
_DUE_STATUS = Job.status.in_([literal_column(f"'{PENDING}'"), literal_column(f"'{RUNNING}'")])
_IS_PENDING = Job.status == literal_column(f"'{PENDING}'")


def _due(now: datetime, topics: Sequence[str]) -> Select[tuple[Job]]:
    """Pending tasks of the topics whose retry time came, and running ones whose lock expired."""
    due = (_IS_PENDING & (Job.run_after <= now)) | (~_IS_PENDING & (Job.locked_until < now))
    return select(Job).where(Job.external == true(), _DUE_STATUS, Job.topic.in_(sorted(topics)), due)


def _lock(session: Session, worker_id: str, topics: dict[str, TopicRequest], max_tasks: int) -> list[LockedTask]:
    now = utcnow()
    query = _due(now, list(topics)).order_by(Job.run_after, Job.id).limit(max_tasks)
    if is_postgres(session):  # of two workers fetching at once, each skips the rows the other is locking
        query = query.with_for_update(skip_locked=True, of=Job)
    locked = []
    for job in session.scalars(query):
        topic = topics[job.topic]
        job.status, job.attempts, job.locked_by = RUNNING, job.attempts + 1, worker_id
        job.locked_until = now + timedelta(milliseconds=topic.lock_ms)
        job.updated_at = now
        locked.append(_locked_task(job, topic))
    return locked


def _locked_task(job: Job, topic: TopicRequest) -> LockedTask:
    variables = dict(job.variables)
    if topic.variables is not None:
        variables = {name: variables[name] for name in topic.variables if name in variables}
    assert job.locked_by is not None and job.locked_until is not None
    return LockedTask(
        id=job.id,
        topic=job.topic,
        worker_id=job.locked_by,
        lock_expiration_time=job.locked_until,
        process_instance_id=job.instance_id,
        activity_id=job.element_id,
        business_key=job.ticket_number,
        retries=job.retries,
        error_message=job.last_error,
        created_at=job.created_at,
        variables=variables,
    )


def _held(session: Session, user: Caller, task_id: int, worker_id: str) -> Job:
    """The task, locked for this call, when `worker_id` holds its lock: 404 when it is not an external task the
    account serves, 409 when another worker (or none) holds it."""
    authorize(user, Permission.WORK_EXTERNAL_TASKS)
    query = select(Job).where(Job.id == task_id, Job.external == true()).execution_options(populate_existing=True)
    if is_postgres(session):  # a fetch, or another call on the same task, waits for this one
        query = query.with_for_update(of=Job)
    job = session.scalar(query)
    if job is None or not may_serve_topic(user, job.topic):
        raise NotFound(f"no external task {task_id}")
    if job.status != RUNNING or job.locked_by != worker_id:
        holder = "is locked by another worker" if job.status == RUNNING else f"is {job.status}, not locked"
        raise Conflict(f"external task {task_id} {holder}: the worker {worker_id!r} does not hold its lock")
    return job


def complete(ctx: Context, *, user: Caller, task_id: int, worker_id: str, variables: dict[str, Any]) -> None:
    """Complete the task with `variables`, which go into the process as a built-in job's result does, and step the
    ticket on. When the step after it fails the job becomes an incident that stops the ticket (409, naming it)."""
    topic = ""
    try:
        with transaction(ctx.sessions) as session:
            job = _held(session, user, task_id, worker_id)
            topic, job.result, job.effect_done = job.topic, variables, True
            finish_job(session, ctx, job, actor=user.username)
    except ProcessFailed as failure:  # the step rolled back; the job keeps the failure, as the built-in worker's do
        fail_job(ctx, task_id, topic, failure, retry=False)
        raise Conflict(
            f"external task {task_id} is not completed, the step after it failed: {failure.detail}",
            incident=failure.extra.get("incident"),
        ) from failure


def report_failure(
    ctx: Context,
    *,
    user: Caller,
    task_id: int,
    worker_id: str,
    message: str,
    details: str | None,
    retries: int,
    retry_timeout_ms: int,
) -> None:
    """The worker could not do the task: with `retries` left it is fetchable again after `retry_timeout_ms`; at 0
    it becomes an incident (a person retries it from /incidents once the cause is fixed)."""
    with transaction(ctx.sessions) as session:
        job = _held(session, user, task_id, worker_id)
        error = f"{message}\n\n{details}" if details else message
        job.retries, job.locked_until, job.locked_by = retries, None, None
        if retries <= 0:
            give_up(session, job, f"the worker {worker_id!r} reported a failure: {error}")
            return
        metrics.job_ran(topic=job.topic, result="retry")
        now = utcnow()
        job.status, job.last_error, job.updated_at = PENDING, error, now
        job.run_after = now + timedelta(milliseconds=retry_timeout_ms)


def report_bpmn_error(
    ctx: Context,
    *,
    user: Caller,
    task_id: int,
    worker_id: str,
    code: str,
    message: str | None,
    variables: dict[str, Any],
) -> None:
    """The worker says the task ended in a business error `code`: an error boundary event of the diagram catching it
    takes over (`variables` merging into the process); when none does, the job is an incident naming the code."""
    topic = ""
    try:
        with transaction(ctx.sessions) as session:
            job = _held(session, user, task_id, worker_id)
            topic, job.effect_done = job.topic, True
            throw_job_error(session, ctx, job, BpmnError(code, message or "", variables), actor=user.username)
    except ProcessFailed as failure:  # the step rolled back: nothing catches the code
        fail_job(ctx, task_id, topic, failure, retry=False)


def extend_lock(ctx: Context, *, user: Caller, task_id: int, worker_id: str, new_duration_ms: int) -> None:
    """Lock the task for `new_duration_ms` from now, for the worker that holds it (409 once its lock expired)."""
    with transaction(ctx.sessions) as session:
        job = _held(session, user, task_id, worker_id)
        now = utcnow()
        assert job.locked_until is not None
        if job.locked_until < now:
            raise Conflict(f"the lock of external task {task_id} has expired: fetch it again")
        job.locked_until, job.updated_at = now + timedelta(milliseconds=new_duration_ms), now
