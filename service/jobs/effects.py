"""A job's side effect: its topic's handler, given the ticket it works for and the Message-ID its mail keeps."""

from __future__ import annotations

from sqlalchemy.orm import Session, defaultload

from service import engine
from service.clients.models import Client
from service.context import Context
from service.jobs.models import Job
from service.jobs.process_topics import run_process_topic
from service.jobs.records import Result
from service.jobs.topics import CHAINABLE, PROCESS_TOPICS, TOPICS, TopicCall, stable_message_id
from service.observability import request_id
from service.processes.models import ProcessInstance
from service.tickets.models import Ticket


def message_id_for(ctx: Context, *, job_id: int | None, instance_id: int, element_id: str, topic: str) -> str:
    domain = ctx.config.mail_sender.partition("@")[2] or "orchestrator"
    if topic in CHAINABLE or job_id is None:
        return stable_message_id(instance_id=instance_id, element_id=element_id, domain=domain)
    return f"job-{job_id}.{topic}@{domain}"


def run_effect(
    session: Session, ctx: Context, ticket: Ticket | None, task: engine.ExternalTaskView, *, message_id: str
) -> Result:
    """Run the side effect of `task`'s topic for `ticket` and return what it gives back (a topic of a process beside
    the ticket flow needs none; any other fails without one)."""
    assert ctx.file_store is not None and ctx.mailer is not None
    if task.topic in PROCESS_TOPICS:
        return run_process_topic(session, ctx, task.topic, dict(task.variables))
    if ticket is None:
        raise LookupError(f"the topic {task.topic!r} works on a ticket, and the instance belongs to none")
    call = TopicCall(
        session=session,
        ticket=ticket,
        variables=dict(task.variables),
        file_store=ctx.file_store,
        mailer=ctx.mailer,
        message_id=message_id,
        request_id=request_id.current(),
    )
    return TOPICS[task.topic](call)


#: An effect reads the ticket, its client, contact and equipment; the client's contracts only if it asks.
_EFFECT_LOAD = (defaultload(Ticket.client).lazyload(Client.contracts),)


def ticket_of(session: Session, job: Job) -> Ticket | None:
    """The ticket a job works for: its own, else the one its instance (beside the ticket flow) belongs to."""
    owner = job.ticket_id
    if owner is None:
        instance = session.get(ProcessInstance, job.instance_id)
        owner = instance.for_ticket_id if instance is not None else None
    return session.get(Ticket, owner, options=_EFFECT_LOAD) if owner is not None else None


def run_job_effect(session: Session, ctx: Context, job: Job, ticket: Ticket | None) -> Result:
    """Run the job's effect for `ticket` and record what it gave back on the job (its effect done)."""
    task = engine.ExternalTaskView(job.task_id, job.element_id, job.topic, dict(job.variables))
    message_id = message_id_for(ctx, job_id=job.id, instance_id=job.instance_id, element_id=task.name, topic=job.topic)
    job.result, job.effect_done = run_effect(session, ctx, ticket, task, message_id=message_id), True
    return job.result
