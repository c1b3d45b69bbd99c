"""Messages into running instances, correlated by ticket number, or starting a process that waits for none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import engine
from service.auth.models import Caller
from service.auth.permissions import Permission, authorize, has_any_role, visible_tickets
from service.context import Context
from service.errors import Forbidden, Invalid, NotFound
from service.processes.instances import step_instance
from service.processes.models import ProcessDefinition, ProcessInstance
from service.processes.standalone import start_process
from service.tickets.history import record
from service.tickets.models import Ticket


@dataclass(frozen=True)
class Delivered:
    """Where a message went: into the ticket's instance, or it started `instance` (belonging to `ticket`, if any)."""

    ticket: Ticket | None
    instance: ProcessInstance | None = None


def send_message(
    session: Session, ctx: Context, *, user: Caller, name: str, number: str | None, data: dict[str, Any]
) -> Delivered:
    """Deliver a message to a ticket the caller sees (404 when it does not), or, when nothing there waits for it
    (or no ticket is named), start the process beside the ticket flow whose start event catches it, belonging to
    that ticket (404 when no process does).

    The diagram decides the rest: the roles that may send this message (its catch event's `senders`, else 403) and
    the only variables its data may set (`variables`, else 422 naming the fields).
    """
    authorize(user, Permission.SEND_MESSAGES)
    ticket = None
    if number is not None:
        ticket = session.scalar(visible_tickets(user).where(Ticket.number == number))
        if ticket is None:
            raise NotFound(f"no ticket {number}")

    def check(rule: engine.MessageRule | None) -> None:
        if rule is not None and not has_any_role(user, rule.senders):
            senders = ", ".join(sorted(rule.senders)) or "nobody: the service itself sends it"
            raise Forbidden(f"the message {name!r} is sent by: {senders}")

    if ticket is not None:
        try:
            deliver_message(
                session, ctx, actor=user.username, ticket=ticket, name=name, data=data,
                check=lambda run: check(run.message_rule(name)),
            )  # fmt: skip
            return Delivered(ticket)
        except NotFound:
            if _message_start(session, ctx, name) is None:
                raise
    definition_id = _message_start(session, ctx, name)
    if definition_id is None:
        raise NotFound(f"no process starts on the message {name!r}")
    _, definition = ctx.definitions.by_id(session, definition_id=definition_id)
    rule = definition.message_rules.get(name)
    check(rule)
    undeclared = sorted(set(data) - (rule.variables if rule is not None else frozenset()))
    if undeclared:
        sets = ", ".join(sorted(rule.variables)) if rule is not None and rule.variables else "none"
        detail = f"the message {name!r} does not set this variable (it sets: {sets})"
        raise Invalid("the message data is not acceptable", errors={field: [detail] for field in undeclared})
    instance = start_process(
        session, ctx, actor=user.username, variables=data, definition_id=definition_id, ticket=ticket
    )
    return Delivered(ticket, instance)


def _message_start(session: Session, ctx: Context, name: str) -> int | None:
    """The newest version of the process beside the ticket flow that a message `name` starts (the first by key)."""
    keys = session.scalars(
        select(ProcessDefinition.key).where(ProcessDefinition.key != ctx.config.ticket_process).distinct()
    )
    for key in sorted(keys):
        version, definition = ctx.definitions.latest(session, key=key)
        if any(start.message == name for start in definition.start_events):
            return version.id
    return None


def deliver_message(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    ticket: Ticket,
    name: str,
    data: dict[str, Any],
    check: Callable[[engine.Run], None] | None = None,
) -> Ticket:
    """Deliver the message `name` to the ticket's instance as `actor` (404 when nothing there waits for it); `check`
    refuses a sender once the instance is read. A failing step names the message and its data, for a retry."""

    def deliver(run: engine.Run) -> None:
        if check is not None:
            check(run)
        if not run.send_message(name, data):
            raise NotFound(f"ticket {ticket.number} is not waiting for the message {name!r}")

    redo = ("message", {"name": name, "data": data})
    step_instance(session, ctx, ticket_id=ticket.id, actor=actor, action=deliver, redo=redo)
    record(session, ticket, actor, "message_received", name=name, data=data)
    return ticket
