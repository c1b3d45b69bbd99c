"""A client's contacts: the people tickets come from, confirmed by a duty officer before mail goes to them, and
merged when intake created a second contact for someone the directory knows already."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.clients.models import Client, Contact
from service.clients.services import find_client
from service.directory import records
from service.errors import Conflict, Invalid, NotFound
from service.paging import Page, keyset_page
from service.rows import insert_rows
from service.searching import contains
from service.tickets.history import history_row
from service.tickets.models import HistoryEvent, Ticket

KIND = "contact"
#: What the history records of a contact.
FIELDS = ("email", "name", "phone", "position", "language", "confirmed", "portal_access", "active")


def contact_key(client_code: str, email: str) -> str:
    """The contact's key in the history: `CLIENT/email`."""
    return f"{client_code}/{email}"


def normal_email(email: str) -> str:
    """An address as the directory stores it: trimmed and lower-cased."""
    return email.strip().lower()


def list_contacts(
    session: Session,
    *,
    user: Caller,
    client: str,
    q: str | None,
    active: bool | None,
    confirmed: bool | None,
    cursor: str | None,
    page_size: int,
) -> Page[Contact]:
    """A page of the client's contacts in the order of their addresses, found by address, name, phone or position;
    `confirmed=False` lists those intake created and nobody confirmed yet."""
    authorize(user, Permission.READ_DIRECTORY)
    owner = find_client(session, client)
    query = select(Contact).where(Contact.client_id == owner.id)
    if q:
        query = query.where(
            or_(
                contains(Contact.email, q),
                contains(Contact.name, q),
                contains(Contact.phone, q),
                contains(Contact.position, q),
            )
        )
    if active is not None:
        query = query.where(Contact.active.is_(active))
    if confirmed is not None:
        query = query.where(Contact.confirmed.is_(confirmed))
    return keyset_page(session, query, key=Contact.email, cursor=cursor, page_size=page_size)


def _find(session: Session, client_id: int, email: str) -> Contact | None:
    return session.scalar(select(Contact).where(Contact.client_id == client_id, Contact.email == normal_email(email)))


def find_contact(session: Session, client: str, email: str) -> Contact:
    """The contact of that client with that address, in any case (404 when either is unknown)."""
    owner = find_client(session, client)
    contact = _find(session, owner.id, email)
    if contact is None:
        raise NotFound(f"no contact {email!r} of the client {client!r}")
    return contact


def get_contact(session: Session, *, user: Caller, client: str, email: str) -> Contact:
    """One contact."""
    authorize(user, Permission.READ_DIRECTORY)
    return find_contact(session, client, email)


def create_contact(
    session: Session, *, user: Caller, client: str, data: Mapping[str, Any], source: str = ""
) -> Contact:
    """A new contact of the client (409 when the client has one of that address already, in any case)."""
    authorize(user, Permission.EDIT_CONTACTS)
    owner = find_client(session, client)
    email = normal_email(data["email"])
    if _find(session, owner.id, email) is not None:
        raise Conflict(f"the client {client!r} has a contact {email!r} already")
    contact = Contact(client_id=owner.id, **{**data, "email": email})
    key = contact_key(client, email)
    records.create(session, contact, kind=KIND, key=key, actor=user.username, fields=FIELDS, source=source)
    return contact


def update_contact(
    session: Session,
    *,
    user: Caller,
    client: str,
    email: str,
    changes: Mapping[str, Any],
    if_match: str | None,
    source: str = "",
) -> Contact:
    """Change a contact from the version the caller read: `confirmed: true` confirms it, `active: false`
    deactivates it."""
    authorize(user, Permission.EDIT_CONTACTS)
    contact = find_contact(session, client, email)
    records.update(
        session,
        contact,
        kind=KIND,
        key=contact_key(client, contact.email),
        actor=user.username,
        if_match=if_match,
        changes=changes,
        source=source,
    )
    return contact


def record_intake(session: Session, contact: Contact, *, client: str, actor: str) -> None:
    """Record a contact a new ticket created (unconfirmed, from an address the directory did not know)."""
    key = contact_key(client, contact.email)
    after = records.snapshot(contact, FIELDS)
    records.record_change(
        session, kind=KIND, key=key, actor=actor, action=records.Action.CREATED, before=None, after=after
    )


def confirm(session: Session, contact: Contact, *, client: str, actor: str) -> bool:
    """Confirm a contact a ticket names (its ticket's action: no version to match); False when it was already."""
    before, after = records.apply_changes(contact, {"confirmed": True})
    if not after:
        return False
    key = contact_key(client, contact.email)
    records.record_change(
        session, kind=KIND, key=key, actor=actor, action=records.Action.UPDATED, before=before, after=after
    )
    return True


def merge_contact(session: Session, *, user: Caller, client: str, email: str, into: str) -> Contact:
    """Move the tickets of one contact to another contact of the same client and deactivate the first; both
    histories and every moved ticket's history record it. The contact merged into is answered."""
    authorize(user, Permission.EDIT_CONTACTS)
    merged = find_contact(session, client, email)
    target = _find(session, merged.client_id, into)
    if target is None:
        raise Invalid(
            f"the client {client!r} has no contact {into!r}", errors={"into": ["not a contact of the client"]}
        )
    if target.id == merged.id:
        raise Invalid("a contact cannot be merged into itself", errors={"into": ["the contact merged itself"]})
    if not target.active:
        raise Conflict(f"the contact {target.email!r} is deactivated: reactivate it before merging into it")
    tickets = list(session.scalars(select(Ticket).where(Ticket.contact_id == merged.id).order_by(Ticket.id)))
    for ticket in tickets:
        ticket.contact = target
    session.flush()
    detail = {"from": merged.email, "to": target.email}
    insert_rows(
        session, HistoryEvent, [history_row(ticket, user.username, "contact_merged", detail) for ticket in tickets]
    )
    moved = [ticket.number for ticket in tickets]
    before, after = records.apply_changes(merged, {"active": False})
    records.record_change(
        session,
        kind=KIND,
        key=contact_key(client, merged.email),
        actor=user.username,
        action=records.Action.MERGED,
        before=before,
        after={**after, "merged_into": target.email, "tickets": moved},
    )
    records.record_change(
        session,
        kind=KIND,
        key=contact_key(client, target.email),
        actor=user.username,
        action=records.Action.MERGED,
        before={},
        after={"merged_from": merged.email, "tickets": moved},
    )
    session.flush()
    return target


def delete_contact(session: Session, *, user: Caller, client: str, email: str, if_match: str | None) -> None:
    """Delete a contact no ticket names (409 naming what refers to it: merge or deactivate such a contact instead)."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    contact = find_contact(session, client, email)
    key = contact_key(client, contact.email)
    records.delete(session, contact, kind=KIND, key=key, actor=user.username, if_match=if_match)


def contact_history(
    session: Session, *, user: Caller, client: str, email: str, cursor: str | None, page_size: int
) -> Page[Any]:
    """The changes of a contact, oldest first (also after it was deleted)."""
    authorize(user, Permission.READ_DIRECTORY)
    find_client(session, client)
    key = contact_key(client, normal_email(email))
    return records.history(session, kind=KIND, key=key, cursor=cursor, page_size=page_size)


def unconfirmed_contacts(session: Session, *, user: Caller, limit: int) -> list[tuple[Contact, str]]:
    """The active contacts of every client that intake created and nobody confirmed yet, with their client's code,
    in the order of the codes and addresses: the duty officer's list to confirm or merge."""
    authorize(user, Permission.READ_DIRECTORY)
    query = (
        select(Contact, Client.code)
        .join(Client, Client.id == Contact.client_id)
        .where(Contact.confirmed.is_(False), Contact.active.is_(True))
        .order_by(Client.code, Contact.email)
        .limit(limit)
    )
    return [(contact, code) for contact, code in session.execute(query)]
