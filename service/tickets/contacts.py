"""A ticket's contact: confirming an address intake did not know, so that the client's mails may go to it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.auth.permissions import Permission, authorize, visible_tickets
from service.clients.contacts import confirm
from service.errors import NotFound
from service.tickets.history import record
from service.tickets.models import Ticket


def confirm_contact(session: Session, *, user: Caller, number: str) -> Ticket:
    """Confirm the contact of a ticket the caller sees (a duty officer, once they know the address is the client's).

    Until then no mail goes to the address (see `service.jobs.topics`). The contact's history records it too;
    confirming twice changes nothing.
    """
    authorize(user, Permission.CONFIRM_CONTACTS)
    ticket = session.scalar(visible_tickets(user).where(Ticket.number == number))
    if ticket is None:
        raise NotFound(f"no ticket {number}")
    if confirm(session, ticket.contact, client=ticket.client.code, actor=user.username):
        record(session, ticket, user.username, "contact_confirmed", email=ticket.contact.email)
    return ticket
