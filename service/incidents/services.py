"""Incidents: listing them, retrying the failed action, and correcting an instance's variables before a retry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import engine
from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.context import Context
from service.db import is_postgres, utcnow
from service.errors import Conflict, Invalid, NotFound, ProcessFailed
from service.incidents.models import COMPLETE_TASK, JOB, MESSAGE, OPEN, RESOLVED, START, Incident
from service.jobs.models import FAILED, PENDING, Job
from service.paging import Page, keyset_rows
from service.processes.instances import lock_instance, script_limits, start_instance
from service.processes.messages import deliver_message
from service.processes.models import ProcessInstance
from service.processes.standalone import start_process
from service.tasks.models import OPEN as TASK_OPEN
from service.tasks.models import UserTask
from service.tasks.services import finish_completion
from service.tickets.history import record
from service.tickets.models import INCIDENT, Ticket


def list_incidents(session: Session, *, user: Caller, cursor: str | None = None, page_size: int = 50) -> Page[Any]:
    """A page of the open incidents, failed steps and failed jobs alike, oldest first, by one query of the columns
    an incident shows (its id orders it; a resolved incident leaves the list, a new failure joins it at the end)."""
    authorize(user, Permission.HANDLE_INCIDENTS)
    query = (
        select(
            Incident.id,
            Ticket.number.label("ticket_number"),
            Incident.instance_id,
            Incident.kind,
            Incident.detail,
            Incident.element_id,
            Incident.last_error,
            Incident.process,
            Incident.version,
            Incident.state,
            Incident.created_at,
            Incident.created_by,
            Incident.updated_at,
            Incident.resolved_at,
            Incident.resolved_by,
            Incident.job_id,
            Job.topic,
            Job.attempts,
            Job.status,
        )
        .outerjoin(Ticket, Ticket.id == Incident.ticket_id)
        .outerjoin(Job, Job.id == Incident.job_id)
        .where(Incident.state == OPEN)
    )
    return keyset_rows(session, query, list_name="incidents", keys=(Incident.id,), cursor=cursor, page_size=page_size)


def retry_incident(session: Session, ctx: Context, *, user: Caller, incident_id: int) -> Incident:
    """Resolve an open incident by doing the failed action again on the ticket's current version of its process.

    A failed job goes back in the queue with a fresh count of attempts. A failed step is done again at once with
    the data it was given (a task's form, a message), as the person who gave it; opening a ticket starts its
    process on the newest version. Success resolves the incident and the ticket moves on; a new failure rolls it
    all back and keeps the incident open with the new error (409, ProcessFailed).
    """
    authorize(user, Permission.HANDLE_INCIDENTS)
    query = select(Incident).where(Incident.id == incident_id).execution_options(populate_existing=True)
    if is_postgres(session):  # of two retrying at once the second waits, then finds it resolved
        query = query.with_for_update(of=Incident)
    incident = session.scalar(query)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    if incident.state != OPEN:
        raise Conflict(f"incident {incident_id} is {incident.state}")
    ticket = incident.ticket
    if ticket is None:  # beside the ticket flow: its job runs again, its start is made again, a failed step is done
        incident.state, incident.resolved_at, incident.resolved_by = RESOLVED, utcnow(), user.username
        incident.updated_at = incident.resolved_at
        if incident.kind == JOB:
            _queue_again(session, incident)
        elif incident.kind == START:
            _start_again(session, ctx, incident)
        return incident
    resolve(session, incident, ticket, user=user)
    if incident.kind == JOB:
        _queue_again(session, incident)
        return incident
    try:
        if incident.kind == START:
            start_instance(session, ctx, ticket=ticket, actor=incident.created_by)
        elif incident.kind == COMPLETE_TASK:
            detail = incident.detail
            task = session.get(UserTask, detail["task_id"])
            if task is None or task.state != TASK_OPEN:
                raise Conflict(f"incident {incident.id}: the task {detail['task']} is no longer open")
            finish_completion(session, ctx, actor=incident.created_by, task=task, data=detail["data"])
        elif incident.kind == MESSAGE:
            detail = incident.detail
            deliver_message(
                session, ctx, actor=incident.created_by, ticket=ticket, name=detail["name"], data=detail["data"]
            )
    except ProcessFailed as failure:
        failure.incident_id = incident.id
        raise
    return incident


def resolve(
    session: Session,
    incident: Incident,
    ticket: Ticket,
    *,
    user: Caller,
    event: str = "incident_retried",
    **detail: Any,
) -> None:
    """Mark the incident resolved, tell it in the history (`event`, with `detail`) and give the ticket back the
    status it had before it stopped."""
    incident.state, incident.resolved_at, incident.resolved_by = RESOLVED, utcnow(), user.username
    incident.updated_at = incident.resolved_at
    record(
        session,
        ticket,
        user.username,
        event,
        incident=incident.id,
        action=incident.kind,
        **detail,
        **({"job": incident.job_id, "topic": incident.topic} if incident.job_id is not None else {}),
    )
    if incident.previous_status is not None and ticket.status == INCIDENT:
        record(
            session,
            ticket,
            user.username,
            "status_changed",
            old=INCIDENT,
            new=incident.previous_status,
            team=ticket.team,
            level=ticket.level,
        )
        ticket.status = incident.previous_status


def _start_again(session: Session, ctx: Context, incident: Incident) -> None:
    """Start the failed start's process again, on its newest version, with the variables and ticket it was given."""
    detail = incident.detail
    owner = session.get(Ticket, detail["ticket"]) if detail.get("ticket") is not None else None
    try:
        start_process(
            session, ctx, actor=incident.created_by, variables=detail["variables"], key=detail["key"], ticket=owner
        )
    except ProcessFailed as failure:
        failure.incident_id = incident.id
        raise


def _queue_again(session: Session, incident: Incident) -> None:
    """Put the incident's failed job back in the queue with a fresh count of attempts."""
    job = incident.job
    if job is None:
        raise Conflict(f"incident {incident.id}: its job is gone")
    # Only while it is still failed: a job a worker took meanwhile is not put back in the queue under it.
    retried = session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status == FAILED)
        .values(status=PENDING, attempts=0, run_after=utcnow(), updated_at=utcnow())
    )
    if retried.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"job {job.id} is {job.status}, not failed")
    session.refresh(job)


def running_instance(session: Session, *, user: Caller, number: str) -> tuple[Ticket, ProcessInstance]:
    """The ticket `number` and its running instance, locked, for a process owner's correction (403, 404, 409)."""
    authorize(user, Permission.MIGRATE_TICKETS)
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None:
        raise NotFound(f"no ticket {number}")
    instance = lock_instance(session, ticket_id=ticket.id)
    if instance.completed:
        raise Conflict(f"the process of ticket {number} has ended")
    return ticket, instance


def change_variables(
    session: Session, ctx: Context, *, user: Caller, number: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """Overwrite variables of a running ticket's instance (process owners), e.g. to correct what made a step fail
    before retrying its incident; the history keeps each variable's value before and after."""
    ticket, instance = running_instance(session, user=user, number=number)
    _row, definition = ctx.definitions.by_id(session, definition_id=instance.definition_id)
    run = definition.restore(instance.document, decide=ctx.rules.decider(session), limits=script_limits(ctx.config))
    before = {name: run.data.get(name) for name in variables}
    try:
        run.update_data(variables)
        instance.document = run.serialize()
    except engine.EngineError as error:  # the instance's data passed its budget
        raise Invalid("the variables are not acceptable", errors={"variables": [error.detail]}) from error
    except ValueError as error:  # not plain JSON data, or a reserved name
        raise Invalid("the variables are not acceptable", errors={"variables": [str(error)]}) from error
    instance.updated_at = utcnow()
    after = {name: run.data.get(name) for name in variables}
    record(session, ticket, user.username, "variables_changed", before=before, after=after)
    return {"ticket": number, "before": before, "after": after}


def stopping_incidents(session: Session, *, user: Caller, ticket: Ticket) -> list[Incident]:
    """The open incidents of a ticket stopped by one, oldest first, for the staff who see the ticket; a client user
    is told nothing of them (an empty list), and a running ticket costs no query."""
    if ticket.status != INCIDENT or user.client_id is not None:
        return []
    query = select(Incident).where(Incident.ticket_id == ticket.id, Incident.state == OPEN).order_by(Incident.id)
    return list(session.scalars(query))
