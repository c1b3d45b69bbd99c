"""Writing incidents: a failed step stops its ticket at the failing element until a person resolves it."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from service.context import Context
from service.db import transaction, utcnow
from service.errors import ProcessFailed
from service.incidents.models import JOB, OPEN, START, STEP, Incident
from service.jobs.models import Job
from service.tickets.history import record
from service.tickets.models import INCIDENT, Ticket

log = logging.getLogger("orchestrator.incidents")


def open_incident(
    session: Session,
    ticket: Ticket | None,
    *,
    actor: str,
    kind: str,
    error: str,
    stop: bool,
    detail: dict[str, Any] | None = None,
    element_id: str | None = None,
    process: str | None = None,
    version: int | None = None,
    job: Job | None = None,
    event: dict[str, Any] | None = None,
    instance_id: int | None = None,
) -> Incident:
    """Store an open incident of `ticket`, tell it in the history (the `incident` event carries `event` too) and
    the log; `stop` puts the ticket in the `incident` status, its status before kept on the incident. Without a
    ticket it is the incident of the instance `instance_id` (or the job's) beside the ticket flow, and only logged."""
    previous = ticket.status if ticket is not None and stop and ticket.status != INCIDENT else None
    if ticket is None and instance_id is None and job is not None:
        instance_id = job.instance_id
    incident = Incident(
        ticket_id=ticket.id if ticket is not None else None,
        instance_id=instance_id if ticket is None else None,
        job_id=job.id if job is not None else None,
        kind=kind,
        detail=detail or {},
        element_id=element_id,
        last_error=error,
        process=process,
        version=version,
        previous_status=previous,
        created_by=actor,
    )
    session.add(incident)
    session.flush()
    if ticket is None:  # an instance beside the ticket flow: no ticket stops, no history tells it
        log.error("instance %s: incident %s (%s) at %s: %s", instance_id, incident.id, kind, element_id or "-", error)
        return incident
    if previous is not None:
        record(
            session, ticket, actor, "status_changed", old=previous, new=INCIDENT, team=ticket.team, level=ticket.level
        )
        ticket.status = INCIDENT
    record(session, ticket, actor, "incident", **(event or {}), incident=incident.id, action=kind, error=error)
    log.error("ticket %s: incident %s (%s) at %s: %s", ticket.number, incident.id, kind, element_id or "-", error)
    return incident


def record_failure(session: Session, failure: ProcessFailed, *, job: Job | None = None) -> None:
    """Store the incident of a failed step (the step's own transaction has ended), or, when it was the retry of an
    open incident, keep that one open with the new error; the failure's problem then names the incident."""
    ticket = session.get(Ticket, failure.ticket_id) if failure.ticket_id is not None else None
    if ticket is None and failure.instance_id is None and job is None and failure.action != START:
        return
    actor = failure.actor or "system"
    element, version = failure.extra.get("element"), failure.extra.get("version")
    existing = session.get(Incident, failure.incident_id) if failure.incident_id is not None else None
    if existing is not None and existing.state == OPEN:
        existing.last_error, existing.updated_at = failure.detail, utcnow()
        existing.element_id, existing.process, existing.version = element, failure.extra.get("process"), version
        if ticket is not None:
            record(
                session,
                ticket,
                actor,
                "incident_retry_failed",
                **failure.extra,
                incident=existing.id,
                error=failure.detail,
            )
        log.error("the retry of incident %s failed at %s: %s", existing.id, element, failure.detail)
        failure.extra["incident"] = existing.id
        return
    event = {**failure.extra, **({"topic": job.topic, "job": job.id} if job is not None else {})}
    incident = open_incident(
        session,
        ticket,
        actor=actor,
        kind=JOB if job is not None else failure.action or STEP,
        error=failure.detail,
        stop=True,
        detail=failure.action_data,
        element_id=element,
        process=failure.extra.get("process"),
        version=version,
        job=job,
        event=event,
        instance_id=failure.instance_id,
    )
    failure.extra["incident"] = incident.id


def record_failure_apart(ctx: Context, failure: ProcessFailed) -> None:
    """``record_failure`` in a transaction of its own; the caller's, which would have saved the step, rolled back."""
    with transaction(ctx.sessions) as session:
        record_failure(session, failure)
