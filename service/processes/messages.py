"""Messages into running instances, correlated by ticket number."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from service import engine
from service.auth.models import Caller
from service.auth.permissions import Permission, authorize, has_any_role, visible_tickets
from service.context import Context
from service.errors import Forbidden, NotFound
from service.processes.instances import step_instance
from service.tickets.history import record
from service.tickets.models import Ticket


def send_message(
    session: Session, ctx: Context, *, user: Caller, name: str, number: str, data: dict[str, Any]
) -> Ticket:
    """Deliver a message to a ticket the caller sees (404 when it does not, or when nothing there waits for it).

    The diagram decides the rest: the roles that may send this message (its catch event's `senders`, else 403) and
    the only variables its data may set (`variables`, else 422 naming the fields).
    """
    authorize(user, Permission.SEND_MESSAGES)
    ticket = session.scalar(visible_tickets(user).where(Ticket.number == number))
    if ticket is None:
        raise NotFound(f"no ticket {number}")

    def check(run: engine.Run) -> None:
        rule = run.message_rule(name)
        if rule is not None and not has_any_role(user, rule.senders):
            senders = ", ".join(sorted(rule.senders)) or "nobody: the service itself sends it"
            raise Forbidden(f"the message {name!r} is sent by: {senders}")

    return deliver_message(session, ctx, actor=user.username, ticket=ticket, name=name, data=data, check=check)


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
