"""Processes beside the ticket flow: started through the API, by a timer start event or by a message, each instance
optionally belonging to a ticket; stepped by their jobs and timers as ticket instances are, by instance id.

Such an instance projects only its jobs and its timers: it has no user tasks (a person's work is a ticket's) and
moves no ticket's status. Its jobs and timer rows carry no ticket (a job's ticket is that of the ticket flow it
steps); a job's effect reads the ticket the instance belongs to, so that the ticket's topics (its mails) serve it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service import engine
from service.context import Context
from service.db import is_postgres, utcnow
from service.errors import Conflict, Invalid, NotFound, ProcessFailed
from service.incidents.models import START
from service.processes.definitions import Version
from service.processes.instances import advance_run, process_failure, script_limits
from service.processes.models import ProcessInstance
from service.processes.projection import add_jobs, end_cancelled_jobs
from service.tickets.models import Ticket
from service.timers.projection import sync_timers


def start_process(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    variables: dict[str, Any],
    key: str | None = None,
    definition_id: int | None = None,
    ticket: Ticket | None = None,
) -> ProcessInstance:
    """Start an instance of the newest version of `key` (or of the version `definition_id`), its start event taken
    as triggered, and run it until it waits; 404 for an unknown process, 409 for the ticket flow (a ticket starts
    it). A failure of its first run raises ProcessFailed carrying the start (process, variables, ticket), and nothing
    of the instance is kept: its incident starts it again on the newest version (`service.incidents.services`)."""
    if definition_id is not None:
        version, definition = ctx.definitions.by_id(session, definition_id=definition_id)
    else:
        assert key is not None
        version, definition = ctx.definitions.latest(session, key=key)
    if version.key == ctx.config.ticket_process:
        raise Conflict(f"the process {version.key!r} is the ticket flow: it starts when a ticket is opened")
    try:
        run = definition.start(
            variables,
            decide=ctx.rules.decider(session),
            limits=script_limits(ctx.config),
            starter=actor,
            triggered=True,
        )
    except engine.EngineError as error:  # the variables are not plain data
        raise Invalid("the variables are not acceptable", errors={"variables": [error.detail]}) from error
    try:
        events = advance_run(run, version)
    except ProcessFailed as failure:  # nothing of the instance is kept: the start itself is the incident's to redo
        failure.actor, failure.action = actor, START
        failure.action_data = {
            "key": version.key,
            "variables": variables,
            "ticket": ticket.id if ticket is not None else None,
        }
        raise
    _refuse_user_tasks(run, version)
    try:
        document = run.serialize()
    except engine.EngineError as error:
        raise Invalid("the variables are not acceptable", errors={"variables": [error.detail]}) from error
    instance = ProcessInstance(
        definition_id=version.id,
        for_ticket_id=ticket.id if ticket is not None else None,
        document=document,
        completed=run.completed,
        started_by=actor,
    )
    session.add(instance)
    session.flush()
    _project(session, instance, run, events, new=True)
    return instance


def step_process(
    session: Session, ctx: Context, *, instance_id: int, actor: str, action: Callable[[engine.Run], Any]
) -> Any:
    """Lock an instance of a process beside the ticket flow by its id, apply `action` to it, run it until it waits
    and project its jobs and timers. A failure raises ProcessFailed naming the instance and no ticket: its incident
    stops no ticket (`service.incidents.records`)."""
    instance = lock_by_id(session, instance_id=instance_id)
    if instance.ticket_id is not None:
        raise Conflict("the ticket flow's instance steps with its ticket")
    version, definition = ctx.definitions.by_id(session, definition_id=instance.definition_id)
    run = definition.restore(instance.document, decide=ctx.rules.decider(session), limits=script_limits(ctx.config))
    try:
        outcome = action(run)
    except engine.EngineError as error:
        failure = process_failure(error, version)
        failure.actor, failure.instance_id = actor, instance.id
        raise failure from error
    try:
        events = advance_run(run, version)
        _refuse_user_tasks(run, version)
    except ProcessFailed as failure:
        failure.actor, failure.instance_id = actor, instance.id
        raise
    _project(session, instance, run, events, new=False)
    try:
        session.flush()
    except StaleDataError as error:
        raise Conflict("the instance moved on while this ran; try again") from error
    return outcome


def lock_by_id(session: Session, *, instance_id: int) -> ProcessInstance:
    """The instance, read afresh and locked until the transaction ends (PostgreSQL: `FOR UPDATE`)."""
    query = select(ProcessInstance).where(ProcessInstance.id == instance_id).execution_options(populate_existing=True)
    if is_postgres(session):
        query = query.with_for_update()
    instance = session.scalar(query)
    if instance is None:
        raise NotFound(f"no process instance {instance_id}")
    return instance


def _project(session: Session, instance: ProcessInstance, run: engine.Run, events: list[Any], *, new: bool) -> None:
    now = utcnow()
    try:
        if not new:
            instance.document, instance.completed, instance.updated_at = run.serialize(), run.completed, now
    except engine.EngineError as error:
        raise ProcessFailed(f"the process failed: {error.detail}") from error
    add_jobs(session, instance, None, run.external_tasks(), new)
    end_cancelled_jobs(session, run, now)
    sync_timers(session, instance=instance, run=run, events=events, now=now, new=new)


def _refuse_user_tasks(run: engine.Run, version: Version) -> None:
    tasks = run.user_tasks()
    if tasks:
        raise ProcessFailed(
            f"the process failed at {tasks[0].name}: a process beside the ticket flow has no user tasks",
            element=tasks[0].name,
            process=version.key,
            version=version.version,
        )
