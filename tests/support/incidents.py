"""Jobs made to have failed every attempt, as the worker leaves them: failed, with an open incident."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.incidents.models import JOB
from service.incidents.records import open_incident
from service.jobs.models import FAILED, Job


def fail_job(session: Session, job: Job, error: str, *, attempts: int = 5) -> int:
    """Mark `job` failed after `attempts` and open its incident, as the worker does; the incident's id."""
    job.status, job.attempts, job.last_error = FAILED, attempts, error
    event = {"topic": job.topic, "job": job.id}
    incident = open_incident(
        session,
        job.ticket,
        actor="worker",
        kind=JOB,
        error=error,
        stop=False,
        element_id=job.element_id,
        job=job,
        event=event,
    )
    return incident.id
