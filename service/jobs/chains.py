"""Chains: the jobs a completion makes ready whose topics may run again without harm (`CHAINABLE`), run and completed
in the same step as links, their job rows written with it; a link that fails breaks the chain (`ChainBroken`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service import engine
from service.context import Context
from service.db import utcnow
from service.jobs.effects import message_id_for, run_effect
from service.jobs.models import DONE, Job
from service.jobs.records import Outcome, Result, done_row, failure_message, record_failed_attempt
from service.jobs.topics import CHAINABLE
from service.processes.instances import Drive
from service.rows import insert_rows_for_ids
from service.tickets.models import Ticket

#: Most jobs one chain runs after its first: a diagram that kept making chainable jobs ready would otherwise hold
#: its instance's lock as long.
CHAIN_LIMIT = 10


@dataclass(frozen=True)
class Link:
    """A job run in a chain: its task and what its effect gave back (its job row is written once the chain is)."""

    task: engine.ExternalTaskView
    result: Result


class ChainBroken(Exception):
    """A link of a chain failed, in its effect (`in_effect`) or in its completion: the chain's step rolls back."""

    def __init__(self, task: engine.ExternalTaskView, error: Exception, *, in_effect: bool) -> None:
        super().__init__(f"{task.topic}: {error}")
        self.task, self.topic, self.error, self.in_effect = task, task.topic, error, in_effect


def chain_drive(session: Session, ctx: Context, head: Job, ticket: Ticket, links: list[Link]) -> Drive:
    """The drive of a chain after `head`: while the run has a ready task of a chainable topic that has no job yet,
    run its effect and complete it (each link appended to `links`). Any failure of a link raises ChainBroken."""

    def drive(run: engine.Run, advance: Callable[[], list[Any]]) -> list[Any]:
        events: list[Any] = []
        known: set[str] | None = None  # the ready tasks' jobs, read once: a task made ready later has none
        while len(links) < CHAIN_LIMIT:
            ready = [task for task in run.external_tasks() if task.topic in CHAINABLE]
            if known is None and ready:
                known = _known_jobs(session, ready)
            task = next((task for task in ready if task.id not in (known or set())), None)
            if task is None:
                break
            message_id = message_id_for(
                ctx, job_id=None, instance_id=head.instance_id, element_id=task.name, topic=task.topic
            )
            try:
                result = run_effect(session, ctx, ticket, task, message_id=message_id)
            except Exception as error:
                raise ChainBroken(task, error, in_effect=True) from error
            try:
                run.complete_external_task(task.id, result)
                events += advance()
            except Exception as error:
                raise ChainBroken(task, error, in_effect=False) from error
            links.append(Link(task, result))
        return events

    return drive


def _known_jobs(session: Session, ready: list[engine.ExternalTaskView]) -> set[str]:
    """The ready tasks that have a job already. A ready task with none is no other worker's to know of (a job is
    written only by a step of the instance, whose lock this step holds), and neither is one made ready later."""
    return set(session.scalars(select(Job.task_id).where(Job.task_id.in_([task.id for task in ready]))))


def finish_links(
    session: Session,
    ctx: Context,
    head: Job,
    ticket: Ticket,
    links: list[Link],
    worker: str,
    history: list[dict[str, Any]],
) -> tuple[Outcome, ...]:
    """The jobs of a chain's links, written at once and done; their history rows appended to `history`. When no done
    job is kept, they are written for their ids (their history names them), then deleted."""
    if not links:
        return ()
    now = utcnow()
    rows = [
        {
            "instance_id": head.instance_id,
            "ticket_id": head.ticket_id,
            "task_id": link.task.id,
            "element_id": link.task.name,
            "topic": link.task.topic,
            "variables": dict(link.task.variables),
            "status": DONE,
            "attempts": 1,
            "locked_by": worker,
            "effect_done": True,
            "result": link.result,
            "request_id": head.request_id,
            "created_at": now,
            "updated_at": now,
        }
        for link in links
    ]
    ids = insert_rows_for_ids(session, Job, rows)
    if ctx.config.job_retention_days <= 0:
        session.execute(delete(Job).where(Job.id.in_(ids)))
    jobs = [Job(id=job_id, **row) for job_id, row in zip(ids, rows, strict=True)]  # not added: what the history names
    history += [done_row(session, ctx, job, ticket, job.result or {}, mark=False) for job in jobs]
    return tuple(Outcome(job.id, job.topic, DONE) for job in jobs)


def fail_link(session: Session, ctx: Context, broken: ChainBroken, worker: str) -> None:
    """The failed effect of a broken chain's link, as the first failed attempt of its job, when the step just wrote
    it; a link further down the chain gets its job, and meets its failure again, when the links before it run."""
    job = session.scalar(select(Job).where(Job.task_id == broken.task.id))
    if job is None:
        return
    job.attempts, job.locked_by = 1, worker
    record_failed_attempt(session, ctx, job, failure_message(job.id, job.topic, broken.error), broken.error)
