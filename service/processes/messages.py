"""Messages into running instances, correlated by ticket number."""

from __future__ import annotations

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

    def deliver(run: engine.Run) -> None:
        rule = run.message_rule(name)
        if rule is not None and not has_any_role(user, rule.senders):
            senders = ", ".join(sorted(rule.senders)) or "nobody: the service itself sends it"
            raise Forbidden(f"the message {name!r} is sent by: {senders}")
        if not run.send_message(name, data):
            raise NotFound(f"ticket {number} is not waiting for the message {name!r}")

    step_instance(session, ctx, ticket_id=ticket.id, actor=user.username, action=deliver)
    record(session, ticket, user.username, "message_received", name=name, data=data)
    return ticket
