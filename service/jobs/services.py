"""Running jobs: claim one, do its side effect once, complete its task; failures back off and become incidents
(listed and retried with the others, `service.incidents.services`)."""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, Update, and_, bindparam, false, func, literal_column, or_, select, update
from sqlalchemy.orm import Session, joinedload, lazyload

from service import engine
from service.clients.models import Client
from service.context import Context
from service.db import first_free, first_free_query, transaction, utcnow
from service.errors import ProcessFailed
from service.jobs.chains import ChainBroken, Link, chain_drive, fail_link, finish_links
from service.jobs.effects import run_job_effect, ticket_of
from service.jobs.models import DONE, PENDING, RUNNING, Job
from service.jobs.records import Outcome, Result, done_row, fail_job, give_up, mark_done
from service.jobs.topics import CHAINABLE, NOTICES, BpmnError
from service.observability import metrics, request_id
from service.processes.instances import Drive, Locked, lock_instance, step_instance
from service.processes.standalone import step_process
from service.rows import insert_rows
from service.sla.models import Segment, SlaClock
from service.sla.timeline import clocks_beside_latest_segment, timeline_of
from service.tasks.models import OPEN, UserTask
from service.tickets.history import record
from service.tickets.models import HistoryEvent, Ticket

log = logging.getLogger("orchestrator.jobs")
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def claim_job(session: Session, ctx: Context, *, worker: str = WORKER_ID, expired: bool = True) -> Job | None:
    """Take the next due job for this worker: one UPDATE of the first free pending row in `ix_job_due` order, which
    writes its lease and counts its attempt. With `expired`, the jobs whose lease ran out are put back first
    (`requeue_expired`); the worker's loop puts them back on its own, at most every poll interval."""
    if expired:
        requeue_expired(session, ctx)
    now = utcnow()
    lease = now + timedelta(seconds=ctx.config.job_lease_seconds)
    job = session.scalars(_claim(session), {"due_by": now, "now": now, "lease": lease, "worker": worker}).one_or_none()
    if job is not None:
        request_id.bind(job.request_id)  # the worker's log lines, and the jobs this one's completion creates, carry it
    return job


#: The claim's UPDATE by dialect, built once: SQLAlchemy keeps a statement's cache key with the statement.
_CLAIMS: dict[str, Update] = {}


def _claim(session: Session) -> Update:
    dialect = session.get_bind().dialect.name
    if dialect not in _CLAIMS:
        due = select(Job.id).where(_IS_PENDING, _BUILT_IN, Job.run_after <= bindparam("due_by"))
        first = first_free_query(session, due, *_ORDER).scalar_subquery()
        lease: dict[str, Any] = {
            "locked_by": bindparam("worker"),
            "locked_until": bindparam("lease"),
            "updated_at": bindparam("now"),
        }
        _CLAIMS[dialect] = (
            update(Job)
            .where(Job.id == first)
            .values(status=RUNNING, attempts=Job.attempts + 1, **lease)
            .returning(Job)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
    return _CLAIMS[dialect]


def requeue_expired(session: Session, ctx: Context) -> int:
    """Put the running jobs whose lease ran out (their worker hung or died) back in the queue, due since their lease
    ended: pending again with their attempts counted, or an incident once they have used them up. Returns how many.

    The running range of `ix_job_due` holds about one live entry per worker, so asking costs little.
    """
    now = utcnow()
    count = 0
    while job := first_free(session, select(Job).where(_IS_RUNNING, _BUILT_IN, Job.locked_until < now), *_ORDER):
        count += 1
        if job.attempts >= ctx.config.job_max_attempts:
            give_up(session, job, f"the job's lease expired {job.attempts} times: its worker hung or stopped")
            continue
        job.status, job.run_after, job.locked_until, job.updated_at = PENDING, job.locked_until or now, None, now
    return count


# The status is written into the statement, not bound: a statement PostgreSQL has prepared then still proves that
# it stays within the partial index `ix_job_due`.
_IS_PENDING = Job.status == literal_column(f"'{PENDING}'")
_IS_RUNNING = Job.status == literal_column(f"'{RUNNING}'")
#: Jobs of topics left to outside workers (`service.jobs.external`) are never claimed here; `ix_job_due` holds none.
_BUILT_IN = Job.external == false()
#: The order of `ix_job_due`: a claim is one range scan of that partial index, stopped at the first free match (an OR
#: of the two due states made the planner read every entry of both ranges, dead ones of finished jobs too).
_ORDER = (Job.run_after, Job.id)


def run_next_job(ctx: Context, *, worker: str = WORKER_ID, expired: bool = True) -> Outcome | None:
    """Claim and run one job as `worker` (its lease names it), then the chain of jobs its completion makes ready
    when `job_chain` is on; None when nothing is due. `expired`: put back the jobs whose lease ran out first.

    The claim is committed first: a worker that dies or hangs in the job leaves it running under a lease that ends,
    and its attempts counted. A job of a chainable topic then runs in one transaction with its completion and its
    chain: one restore, one serialisation, one projection for the lot. Any other job runs its effect in a
    transaction of its own, then is completed in another; so does a chainable one whose one transaction failed,
    going on from where it failed.
    """
    with transaction(ctx.sessions) as session:
        job = claim_job(session, ctx, worker=worker, expired=expired)
        if job is None:
            return None
        job_id, topic, ticket_id = job.id, job.topic, job.ticket_id
        whole = _runs_whole(ctx, job)
    failed = None
    if whole and ticket_id is not None:
        try:
            return _run_whole(ctx, job_id, ticket_id, worker)
        except _WholeFailed as error:  # rolled back: the job is still this worker's, claimed
            failed = error
    return _run_claimed(ctx, job_id, topic, worker, failed=failed)


def _runs_whole(ctx: Context, job: Job) -> bool:
    """The job runs in one transaction with its completion: its topic's effect may be done again (`CHAINABLE`: the
    transaction may roll back after it), it works for a ticket, and its effect was not done before."""
    return ctx.config.job_chain and job.topic in CHAINABLE and job.ticket_id is not None and not job.effect_done


class _WholeFailed(Exception):
    """A job run in one transaction with its completion failed, and the transaction rolled back: `error`, in its
    effect (`result` None) or after it."""

    def __init__(self, error: Exception, result: Result | None) -> None:
        super().__init__(str(error))
        self.error, self.result = error, result


def _run_whole(ctx: Context, job_id: int, ticket_id: int, worker: str) -> Outcome:
    """Run the claimed job's effect, complete its task and run its chain, in one transaction."""
    result: Result | None = None
    try:
        with transaction(ctx.sessions) as session:
            locked, job = _lock_for_job(session, ticket_id, job_id)
            if job.status == DONE:  # a step ended it while it waited for the lock
                return Outcome(job_id, job.topic, DONE)
            ticket = job.ticket
            assert ticket is not None
            with session.no_autoflush:  # the effect and the end of the job: one write of its row
                result = run_job_effect(session, ctx, job, ticket)
            chain = _step_chain(session, ctx, job, ticket, worker, locked=locked)
    except Exception as error:
        raise _WholeFailed(error, result) from error
    return Outcome(job_id, job.topic, DONE, chain=chain)


def _job_under_lock() -> Select[tuple[Job, UserTask, Segment, SlaClock]]:
    is_open = and_(UserTask.instance_id == bindparam("instance_id"), UserTask.state == OPEN)
    # The timeline joins one row alone (the first open task's, or the job's when none is open): each segment, the
    # clocks beside the latest (`timeline_of`).
    first_open = select(func.min(UserTask.id)).where(is_open).scalar_subquery()
    one_row = and_(Segment.ticket_id == bindparam("ticket_id"), or_(UserTask.id.is_(None), UserTask.id == first_open))
    return (
        select(Job, UserTask, Segment, SlaClock)
        .select_from(Job)
        .outerjoin(UserTask, is_open)
        .outerjoin(Segment, one_row)
        .outerjoin(SlaClock, clocks_beside_latest_segment())
        .where(Job.id == bindparam("job_id"))
        .options(
            joinedload(Job.ticket).joinedload(Ticket.client).joinedload(Client.contracts),
            lazyload(UserTask.ticket),  # the job's: from the session, not joined again
            lazyload(UserTask.candidates),  # the step does not read them
        )
        .execution_options(populate_existing=True)
    )


#: Built once, as the claim is.
_JOB_UNDER_LOCK = _job_under_lock()


def _lock_for_job(session: Session, ticket_id: int, job_id: int) -> tuple[Locked, Job]:
    """Lock the ticket's instance, then read, as the lock's last holder left them, the job with its ticket, client
    and contracts, the instance's open tasks, and the ticket's SLA timeline with its clocks: one query for what the
    effect and the step read of them."""
    instance = lock_instance(session, ticket_id=ticket_id)
    params = {"instance_id": instance.id, "ticket_id": ticket_id, "job_id": job_id}
    rows = session.execute(_JOB_UNDER_LOCK, params).unique().all()
    job = rows[0][0]
    tasks = list({task.id: task for _, task, _, _ in rows if task is not None}.values())
    timeline = timeline_of((segment, clock) for _, _, segment, clock in rows)
    return Locked(instance, open_rows=tasks, timeline=timeline), job


def _run_claimed(ctx: Context, job_id: int, topic: str, worker: str, *, failed: _WholeFailed | None = None) -> Outcome:
    """Run a claimed job: its effect in a transaction of its own, then its completion (and chain) in another.

    `failed`: what failed when the job ran in one transaction with its completion; the run meets it again where it
    failed there (a failed effect is not tried again at once, a done one is recorded and not done again) and goes on
    as it would from there."""
    try:
        try:
            if failed is not None and failed.result is None:
                raise failed.error
            _do_effect(ctx, job_id, done=failed.result if failed is not None else None)
        except BpmnError as thrown:  # nothing was done: the diagram handles it, or it is an incident
            _throw(ctx, job_id, thrown)
            return Outcome(job_id, topic, DONE)
        try:
            if failed is not None:
                raise failed.error
            chain = _complete(ctx, job_id, chain=ctx.config.job_chain, worker=worker)
        except ChainBroken as broken:  # everything after this job's completion rolled back: complete it alone
            log.warning("job %s (%s): its chain broke at %s: %s", job_id, topic, broken.topic, broken.error)
            chain = _complete(ctx, job_id, chain=False, worker=worker, broken=broken)
    except ProcessFailed as error:  # the diagram failed after the effect: the same step would fail again
        return fail_job(ctx, job_id, topic, error, retry=False)
    except Exception as error:  # noqa: BLE001 - any failure of an adapter is retried, then an incident
        return fail_job(ctx, job_id, topic, error)
    return Outcome(job_id, topic, DONE, chain=chain)


def _do_effect(ctx: Context, job_id: int, *, done: Result | None = None) -> None:
    """Run the job's effect and record what it gave back; `done`: what it gave back when it ran before, to record."""
    with transaction(ctx.sessions) as session:
        job = session.get(Job, job_id)
        assert job is not None
        if job.effect_done or job.status == DONE:  # done: a step cancelled its task after the claim
            return
        if done is not None:
            job.result, job.effect_done = done, True
            return
        run_job_effect(session, ctx, job, ticket_of(session, job))


def _complete(
    ctx: Context, job_id: int, *, chain: bool, worker: str, broken: ChainBroken | None = None
) -> tuple[Outcome, ...]:
    """Complete the job's task and step its instance; with `chain`, also run and complete every job the step makes
    ready whose topic allows it, all saved at once. Returns the chained jobs' outcomes.

    `broken` is the chain that failed before: its link's job is written by this step as any new job is; when the
    link's effect failed, that counts as the job's first attempt (retried or an incident, as any job's failure)."""
    with transaction(ctx.sessions) as session:
        job = session.get(Job, job_id)
        assert job is not None
        if job.status == DONE:  # a step cancelled its task while the effect ran: nothing is left to complete
            return ()
        ticket = session.get(Ticket, job.ticket_id) if job.ticket_id is not None else None  # read once a step
        if ticket is None:  # an instance beside the ticket flow: no chain, no ticket's history
            result = dict(job.result or {})
            _step(session, ctx, job, result, actor="worker")
            _finish(session, ctx, job, result, actor="worker")
            return ()
        outcomes = _step_chain(session, ctx, job, ticket, worker, chain=chain)
        if broken is not None and broken.in_effect:
            fail_link(session, ctx, broken, worker)
    return outcomes


def _step_chain(
    session: Session,
    ctx: Context,
    job: Job,
    ticket: Ticket,
    worker: str,
    *,
    chain: bool = True,
    locked: Locked | None = None,
) -> tuple[Outcome, ...]:
    """Complete the job's task with its result and step the instance on, with the job's chain when `chain`; the
    step's, the job's and the chain's history in one statement. Returns the chained jobs' outcomes."""
    links: list[Link] = []
    result = dict(job.result or {})
    drive = chain_drive(session, ctx, job, ticket, links) if chain else None
    history: list[dict[str, Any]] = []
    mark_done(session, ctx, job)  # before the step's first flush: the job's row is written once
    _step(session, ctx, job, result, actor="worker", drive=drive, history_to=history, locked=locked)
    history.append(done_row(session, ctx, job, ticket, result, actor="worker", mark=False))
    outcomes = finish_links(session, ctx, job, ticket, links, worker, history)
    insert_rows(session, HistoryEvent, history)
    return outcomes


def _step(
    session: Session,
    ctx: Context,
    job: Job,
    result: Result,
    *,
    actor: str,
    drive: Drive | None = None,
    history_to: list[dict[str, Any]] | None = None,
    locked: Locked | None = None,
) -> None:
    """Complete the job's task with `result` and step the instance on (a notice, an SLA mail, has no task); with
    `history_to`, the step's history rows are left there for the caller to write; with `locked`, the instance its
    caller has locked."""
    if job.topic in NOTICES:
        return
    task_id = job.task_id

    def complete(run: engine.Run) -> None:
        run.complete_external_task(task_id, result)

    if job.ticket_id is None:  # an instance beside the ticket flow
        step_process(session, ctx, instance_id=job.instance_id, actor=actor, action=complete)
        return
    step_instance(
        session,
        ctx,
        ticket_id=job.ticket_id,
        actor=actor,
        action=complete,
        drive=drive,
        history_to=history_to,
        locked=locked,
    )


def finish_job(session: Session, ctx: Context, job: Job, *, actor: str) -> None:
    """Complete the job's task with its result and step the instance on, as `actor` (the account of an outside
    worker); the history tells it, and the job is done (or deleted when no retention is kept)."""
    result = dict(job.result or {})
    _step(session, ctx, job, result, actor=actor)
    _finish(session, ctx, job, result, actor=actor)


def _finish(session: Session, ctx: Context, job: Job, result: Result, *, actor: str = "worker") -> None:
    """The completed job's history, and the job done (or deleted when no done job is kept)."""
    if job.ticket_id is None:  # an instance beside the ticket flow: no ticket's history tells it
        metrics.job_ran(topic=job.topic, result="done", created_at=job.created_at)
        mark_done(session, ctx, job)
        return
    ticket = session.get(Ticket, job.ticket_id)
    assert ticket is not None
    insert_rows(session, HistoryEvent, [done_row(session, ctx, job, ticket, result, actor=actor)])


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

    def throw(run: engine.Run) -> str | None:
        return run.throw_bpmn_error(task_id, thrown.code, thrown.message, thrown.variables)

    if job.ticket_id is None:  # an instance beside the ticket flow: no ticket's history tells it
        step_process(session, ctx, instance_id=job.instance_id, actor=actor, action=throw)
        metrics.job_ran(topic=job.topic, result="bpmn_error", created_at=job.created_at)
        job.result = {"bpmn_error": thrown.code}
        mark_done(session, ctx, job)
        return
    caught = step_instance(session, ctx, ticket_id=job.ticket_id, actor=actor, action=throw)
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
    mark_done(session, ctx, job)
