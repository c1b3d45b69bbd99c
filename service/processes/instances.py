"""Starting, loading and stepping process instances, one transaction at a time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service import engine
from service.clients.models import Equipment
from service.context import Context
from service.db import is_postgres
from service.errors import Conflict, Invalid, NotFound, ProcessFailed
from service.processes.models import ProcessDefinition, ProcessInstance
from service.processes.projection import project
from service.tickets.facts import ticket_facts
from service.tickets.models import Ticket
from service.tickets.schemas import TicketCreateSchema


def start_instance(session: Session, ctx: Context, *, ticket: Ticket, actor: str) -> ProcessInstance:
    """Start the ticket process for a new ticket and run it until it waits."""
    version, definition = ctx.definitions.latest(session, key=ctx.config.ticket_process)
    decide = ctx.rules.decider(session)
    run = definition.start({**ticket_facts(ticket, today=date.today()), "paid": False}, decide=decide)
    events = _advance(run, version.filename)
    instance = ProcessInstance(
        definition_id=version.id, ticket_id=ticket.id, document=run.serialize(), completed=run.completed
    )
    session.add(instance)
    session.flush()
    project(session, instance=instance, ticket=ticket, run=run, events=events, actor=actor, new=True)
    return instance


def step_instance(
    session: Session,
    ctx: Context,
    *,
    ticket_id: int,
    actor: str,
    action: Callable[[engine.Run], Any],
    refresh_facts: bool = False,
    completes: str | None = None,
) -> Any:
    """Lock the ticket's instance, apply `action` to it, run it until it waits, and save it with its projections.

    Two callers stepping one instance cannot both win: PostgreSQL locks the row, and the version column refuses a
    stale write everywhere (409).
    """
    query = (
        select(ProcessInstance).where(ProcessInstance.ticket_id == ticket_id).execution_options(populate_existing=True)
    )
    if is_postgres(session):
        query = query.with_for_update()
    instance = session.scalar(query)
    if instance is None:
        raise NotFound("the ticket has no process instance")
    row = session.get(ProcessDefinition, instance.definition_id)
    assert row is not None
    definition = ctx.definitions.get(row)
    run = definition.restore(instance.document, decide=ctx.rules.decider(session))
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    try:
        outcome = action(run)
    except engine.FormError as error:
        raise Invalid("the form is not satisfied", errors=error.errors) from error
    except engine.TaskNotOpen as error:
        raise Conflict(f"the task is no longer open: {error}") from error
    if refresh_facts:
        _apply_form_to_ticket(session, ticket, run.data)
        run.update_data(ticket_facts(ticket, today=date.today()))
    events = _advance(run, row.filename)
    done = frozenset({completes}) if completes else frozenset()
    project(session, instance=instance, ticket=ticket, run=run, events=events, actor=actor, completed=done)
    try:
        session.flush()
    except StaleDataError as error:
        raise Conflict("the ticket moved on while this request ran; reload and try again") from error
    return outcome


def _advance(run: engine.Run, filename: str) -> list[Any]:
    try:
        return run.advance()
    except engine.EngineError as error:
        raise ProcessFailed(
            f"the process failed at {error.element_id}: {error.detail}",
            element=error.element_id,
            file=filename,
        ) from error


#: Form fields that, once a person fills them in, change the ticket itself.
TICKET_FIELDS = ("description", "severity", "category")


def _apply_form_to_ticket(session: Session, ticket: Ticket, data: dict[str, Any]) -> None:
    given = {name: data[name] for name in (*TICKET_FIELDS, "equipment_serial") if data.get(name) not in (None, "")}
    try:  # the same rules as at intake: a form must not carry what opening the ticket would refuse
        checked = TicketCreateSchema(only=tuple(given), partial=True).load(given)
    except ValidationError as error:
        raise Invalid("the form is not satisfied", errors=error.normalized_messages()) from error
    for name in TICKET_FIELDS:
        if name in checked:
            setattr(ticket, name, checked[name])
    serial = checked.get("equipment_serial")
    if serial and (ticket.equipment is None or ticket.equipment.serial != serial):
        ticket.equipment = find_equipment(session, client_id=ticket.client_id, serial=serial)


def find_equipment(session: Session, *, client_id: int, serial: str) -> Equipment:
    """The client's equipment with that serial number (422 when the client has none such)."""
    equipment = session.scalar(select(Equipment).where(Equipment.serial == serial, Equipment.client_id == client_id))
    if equipment is None:
        raise unknown_equipment(serial)
    return equipment


def unknown_equipment(serial: str) -> Invalid:
    """The refusal of a serial number the client has no equipment under."""
    return Invalid("unknown equipment", errors={"equipment_serial": [f"the client has no equipment {serial!r}"]})
