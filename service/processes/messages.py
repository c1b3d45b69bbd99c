"""Messages into running instances, correlated by ticket number."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.auth.services import require_role
from service.context import Context
from service.errors import NotFound
from service.processes.instances import step_instance
from service.tickets.history import record
from service.tickets.models import Ticket

SENDERS = ("rmc", "duty", "manager", "intake")


def send_message(
    session: Session, ctx: Context, *, user: Caller, name: str, number: str, data: dict[str, Any]
) -> Ticket:
    """Deliver a message to the ticket's instance (404 when nothing there waits for it)."""
    require_role(user, *SENDERS)
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None:
        raise NotFound(f"no ticket {number}")

    def deliver(run: Any) -> None:
        if not run.send_message(name, data):
            raise NotFound(f"ticket {number} is not waiting for the message {name!r}")

    step_instance(session, ctx, ticket_id=ticket.id, actor=user.username, action=deliver)
    record(session, ticket, user.username, "message_received", name=name, data=data)
    return ticket
