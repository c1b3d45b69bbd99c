"""Opening a ticket moved over from the old system where it stands in its flow.

The ticket is written as `POST /tickets` writes it, with its original opening time (its clocks count from then),
and its instance is started and moved on, in memory, before anything of it is stored: the intake jobs (the folder,
the client's e-mail, the duty officers' notice) are skipped, `clarify` is completed with the row's description,
severity and category, the entitlement rule decides the route as for any ticket, the routing decision is the row's
team and level (recorded as a decision of the import), and for a ticket waiting for parts `resolve` is completed
with `need_parts`. What is stored is a normal instance waiting at that point: people go on from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service import engine
from service.clients.models import Client, Contact, Equipment
from service.context import Context
from service.errors import Invalid
from service.processes.instances import Decide, start_instance
from service.rulesets.registry import RuleDecision
from service.tickets.history import record
from service.tickets.models import Ticket
from service.tickets.services import new_ticket

NEW, IN_PROGRESS, WAITING_PARTS, ESTIMATE = "new", "in_progress", "waiting_parts", "estimate"
#: The points of the flow an imported ticket starts at, and the user task open there.
POINTS = {NEW: "clarify", ESTIMATE: "estimate", IN_PROGRESS: "resolve", WAITING_PARTS: "order_parts"}
#: The points that need the ticket's team and level.
ENGINEERING = frozenset({IN_PROGRESS, WAITING_PARTS})
#: The jobs of intake an imported ticket skips: its client and the duty officers heard of it in the old system.
SKIPPED_TOPICS = frozenset({"files.create_folder", "mail.ticket_opened", "notify.duty_officers"})


@dataclass(frozen=True)
class Imported:
    """What a row of the old system gives a ticket, beyond its fields."""

    external_ref: str
    opened_at: datetime
    status: str
    team: str | None
    level: int | None
    source: str
    row: dict[str, Any]


def open_imported(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    client: Client,
    contact: Contact,
    equipment: Equipment | None,
    fields: dict[str, Any],
    imported: Imported,
) -> Ticket:
    """Open the ticket with its original time and move its instance to the row's point of the flow.

    422 naming `status` when the ticket's route does not lead there (a ticket under a contract is never priced per
    call; one without a contract is priced before a team takes it)."""
    ticket = new_ticket(
        session,
        actor=actor,
        client=client,
        contact=contact,
        equipment=equipment,
        fields=fields,
        created_at=imported.opened_at,
        external_ref=imported.external_ref,
    )
    record(
        session,
        ticket,
        actor,
        "ticket_imported",
        file=imported.source,
        external_ref=imported.external_ref,
        opened_at=imported.opened_at.isoformat(),
        status=imported.status,
        row=imported.row,
    )

    def decide(rules: Decide) -> Decide:
        def decided(name: str, facts: dict[str, Any]) -> Any:
            if name != "routing" or imported.team is None or imported.level is None:
                return rules(name, facts)
            outcome = {"team": imported.team, "level": imported.level}
            rule = f"imported from {imported.source}"
            return RuleDecision(name, outcome, rule[:200], "import", "", {})

        return decided

    def drive(run: engine.Run, advance: Callable[[], list[Any]]) -> list[Any]:
        events: list[Any] = []
        while run.external_tasks():
            for job in run.external_tasks():
                if job.topic not in SKIPPED_TOPICS:
                    raise Invalid(f"the flow runs the job {job.topic!r} before {POINTS[imported.status]}")
                run.complete_external_task(job.id, {})
                record(session, ticket, actor, "job_skipped", topic=job.topic, reason="imported")
            events += advance()
        if imported.status != NEW:  # past clarification: what the old system knew is what clarify records
            ticket.description = ticket.description or ticket.summary
            clarified = {"description": ticket.description, "severity": ticket.severity, "category": ticket.category}
            events += _complete(run, advance, session, ticket, actor, imported, "clarify", clarified)
        if imported.status == WAITING_PARTS:
            parts = {"outcome": "need_parts", "notes": "imported: waiting for parts"}
            events += _complete(run, advance, session, ticket, actor, imported, "resolve", parts)
        _expect(run, imported.status)
        return events

    start_instance(session, ctx, ticket=ticket, actor=actor, decide=decide, drive=drive)
    return ticket


def _complete(
    run: engine.Run,
    advance: Callable[[], list[Any]],
    session: Session,
    ticket: Ticket,
    actor: str,
    imported: Imported,
    name: str,
    data: dict[str, Any],
) -> list[Any]:
    """Complete the open user task `name` with `data` and run on; its completion goes into the history."""
    task = next((task for task in run.user_tasks() if task.name == name), None)
    if task is None:
        _refuse(run, imported.status)
    assert task is not None
    try:
        run.complete_user_task(task.id, data)
    except engine.FormError as error:  # what the row gives does not satisfy the task's form
        raise Invalid(f"the row does not complete {name}", errors=error.errors) from error
    events: list[Any] = advance()
    record(session, ticket, actor, "task_completed", task=name, task_id=task.id, data=data, imported=imported.source)
    return events


def _expect(run: engine.Run, status: str) -> None:
    if POINTS[status] not in {task.name for task in run.user_tasks()}:
        _refuse(run, status)


def _refuse(run: engine.Run, status: str) -> None:
    """422 naming `status`: the flow of this ticket does not lead to that point."""
    route = run.data.get("route")
    if route == "per_call" and status in ENGINEERING:
        reason = "no contract covers the ticket: it is priced per call first; import it as estimate"
    elif route == "contract" and status == ESTIMATE:
        reason = "the client's contract covers the ticket: it goes to a team; import it as in_progress"
    else:
        reason = f"the flow does not lead this ticket to {POINTS[status]}"
    raise Invalid(f"the ticket cannot start at {status}: {reason}", errors={"status": [reason]})
