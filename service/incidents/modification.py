"""Moving a ticket's token to another element by hand (process owners): Camunda's instance modification, simplified.

The tokens at some elements are cancelled and one is started before another element; the flow runs on from there
in the same step, and the history keeps the elements held before and after. Asked to, the move resolves the
incidents it makes moot: those at a cancelled element, and the one that stopped the ticket.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import engine
from service.auth.models import Caller
from service.context import Context
from service.errors import Conflict, Invalid
from service.incidents.models import OPEN, Incident
from service.incidents.services import resolve, running_instance
from service.jobs.models import RUNNING, Job
from service.processes.instances import step_instance
from service.tickets.history import record
from service.tickets.models import INCIDENT


def modify_instance(
    session: Session,
    ctx: Context,
    *,
    user: Caller,
    number: str,
    cancel: list[str] | None = None,
    start_before: str | None = None,
    instructions: list[dict[str, str]] | None = None,
    annotation: str | None = None,
    resolve_incidents: bool = False,
) -> dict[str, Any]:
    """Cancel the ticket's tokens at `cancel` and start one before `start_before` (or apply Camunda's
    `instructions`, in one step), then run on until the flow waits. A ticket stopped by an incident moves only when
    `resolve_incidents` is asked (the move resolves it); a job already running at a cancelled element is refused
    (409), pending or failed ones there end with it. The history records the move once, with its `annotation`."""
    steps = [engine.Instruction(item["type"], item["activity_id"]) for item in instructions or ()]
    if instructions is not None:
        cancel = [step.activity_id for step in steps if step.type == "cancel"]
    cancel = list(cancel or ())
    ticket, instance = running_instance(session, user=user, number=number)
    incidents = list(session.scalars(select(Incident).where(Incident.ticket_id == ticket.id, Incident.state == OPEN)))
    stopping = next((incident for incident in incidents if incident.previous_status is not None), None)
    if ticket.status == INCIDENT and not resolve_incidents:
        which = f" {stopping.id}" if stopping is not None else ""
        raise Conflict(f"ticket {number} is stopped by incident{which}: move it with resolve_incidents")
    jobs = list(session.scalars(select(Job).where(Job.instance_id == instance.id, Job.element_id.in_(cancel))))
    running = [job.id for job in jobs if job.status == RUNNING]
    if running:
        raise Conflict(f"job {running[0]} is running at {', '.join(cancel)}: wait for it to end")
    resolved = [i for i in incidents if i is stopping or i.element_id in cancel] if resolve_incidents else []
    for incident in resolved:
        resolve(session, incident, ticket, user=user, event="incident_resolved", how="modification")
    moved: dict[str, Any] = {}

    def move(run: engine.Run) -> None:
        moved["before"], moved["run"] = run.token_elements(), run
        try:
            if instructions is not None:
                run.apply_instructions(steps)
            else:
                assert start_before is not None  # the schema asks for it with cancel
                run.move_token(cancel, start_before)
        except engine.ModificationRefused as error:
            raise _refusal(error) from error

    step_instance(
        session,
        ctx,
        ticket_id=ticket.id,
        actor=user.username,
        action=move,
        retrying=stopping.id if stopping is not None and stopping in resolved else None,
    )
    run: engine.Run = moved["run"]
    after = run.token_elements()
    asked: dict[str, Any] = {"cancel": cancel}
    if instructions is not None:
        asked["instructions"] = [{"type": step.type, "activityId": step.activity_id} for step in steps]
    else:
        asked["start_before"] = start_before
    if annotation:
        asked["annotation"] = annotation
    incident_ids = [incident.id for incident in resolved]
    record(
        session,
        ticket,
        user.username,
        "instance_modified",
        **asked,
        before=moved["before"],
        after=after,
        incidents=incident_ids,
    )
    return {
        "ticket": number,
        "before": moved["before"],
        "after": after,
        "resolved_incidents": [incident.id for incident in resolved],
    }


def _refusal(error: engine.ModificationRefused) -> Invalid:
    """The 422 of a move the instance cannot make; an instruction's names its index."""
    if error.index is None:
        return Invalid("the token cannot move so", errors={error.field: [error.detail]})
    return Invalid(
        f"instruction {error.index} cannot be applied: {error.detail}",
        errors={"instructions": {str(error.index): {error.field: [error.detail]}}},
    )
