"""Opening, listing and reading tickets."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session, joinedload

from service.augmented import Augmented
from service.auth.models import Caller
from service.auth.permissions import Permission, authorize, visible_tickets
from service.clients.contacts import record_intake
from service.clients.models import Client, Contact, Equipment, OneOffContract
from service.context import Context
from service.db import insert_unless_present
from service.errors import Conflict, Forbidden, Invalid, NotFound, ProcessFailed
from service.incidents.models import OPEN as INCIDENT_OPEN
from service.incidents.models import Incident
from service.incidents.records import record_failure
from service.observability import metrics
from service.paging import Page, keyset_page, keyset_rows
from service.processes.instances import start_instance, unknown_equipment
from service.processes.models import ProcessDefinition, ProcessInstance
from service.rows import insert_object
from service.sla.services import ticket_sla
from service.tasks.models import OPEN, UserTask
from service.tickets.history import client_event, client_visible, record
from service.tickets.models import INCIDENT, DecisionRecord, HistoryEvent, IdempotencyKey, Ticket


@dataclass(frozen=True)
class Opened:
    """A ticket and whether this call created it (False when an idempotency key matched)."""

    ticket: Ticket
    created: bool


def open_ticket(
    session: Session, ctx: Context, *, user: Caller, fields: dict[str, Any], idempotency_key: str | None
) -> Opened:
    """Create a ticket linked to client, contact and equipment, and start its process.

    When its process fails at once (a script, a decision...), the ticket is still opened, in the `incident` status,
    with an incident whose retry starts the process again."""
    authorize(user, Permission.OPEN_TICKETS)
    key_id = None
    if idempotency_key:
        fingerprint = request_fingerprint(fields)
        key_id = insert_unless_present(
            session,
            IdempotencyKey,
            {"user_id": user.id, "key": idempotency_key, "fingerprint": fingerprint},
            unique=("user_id", "key"),
        )
        if key_id is None:
            return Opened(_opened_by_key(session, user=user, key=idempotency_key, fingerprint=fingerprint), False)
    email = fields["contact_email"].strip().lower()
    client, contact, equipment = _parties(session, user, fields.get("client"), email, fields.get("equipment_serial"))
    new_contact = False
    if contact is None:  # a new address: two tickets from it at once make one contact (the second waits for it)
        row = {"client_id": client.id, "email": email, "confirmed": False}
        contact_id = insert_unless_present(session, Contact, row, unique=("client_id", "email"))
        new_contact = contact_id is not None
        contact = session.scalars(select(Contact).where(Contact.client_id == client.id, Contact.email == email)).one()
    ticket = new_ticket(
        session, actor=user.username, client=client, contact=contact, equipment=equipment, fields=fields
    )
    if new_contact:
        record(session, ticket, user.username, "contact_unconfirmed", email=contact.email)
        record_intake(session, contact, client=client.code, actor=user.username)
    if key_id is not None:
        session.execute(update(IdempotencyKey).where(IdempotencyKey.id == key_id).values(ticket_id=ticket.id))
    try:
        start_instance(session, ctx, ticket=ticket, actor=user.username)
    except ProcessFailed as failure:  # the ticket is kept, stopped at an incident: nothing the caller sent is lost
        if failure.database:  # the transaction itself may be lost: the edge records what it can
            raise
        record_failure(session, failure)
    metrics.ticket_opened(channel=ticket.channel)
    return Opened(ticket, True)


def new_ticket(
    session: Session,
    *,
    actor: str,
    client: Client,
    contact: Contact,
    equipment: Equipment | None,
    fields: dict[str, Any],
    created_at: datetime | None = None,
    external_ref: str | None = None,
) -> Ticket:
    """Write a new ticket and its `ticket_opened` event (its process is started by the caller). `created_at` is
    now unless told (an imported ticket keeps its original opening time, which its clocks count from)."""
    # By ids: the flush then has no relationships to walk, and `ticket.client` (and the others) come from the session.
    ticket = Ticket(
        client_id=client.id,
        contact_id=contact.id,
        equipment_id=equipment.id if equipment else None,
        channel=fields["channel"],
        summary=fields["summary"],
        description=fields.get("description") or "",
        severity=fields.get("severity") or "normal",
        category=fields.get("category") or "hardware",
        created_by=actor,
        external_ref=external_ref,
    )
    if created_at is not None:
        ticket.created_at = created_at
    insert_object(session, ticket)  # with the id and the number the database derives from it
    record(session, ticket, actor, "ticket_opened", channel=ticket.channel, client=client.code)
    return ticket


def request_fingerprint(fields: dict[str, Any]) -> str:
    """A digest of a request's validated fields: the same for the same request whatever the order or spelling of
    its JSON, different when any field differs."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _opened_by_key(session: Session, *, user: Caller, key: str, fingerprint: str) -> Ticket:
    """The ticket an earlier request of the caller opened with this key (422 when that request was another one).

    The caller made it, so the caller gets it whatever else they may read (an intake account reads no tickets)."""
    earlier = session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key))
    if earlier is not None and earlier.fingerprint not in (None, fingerprint):
        raise Invalid(
            "this Idempotency-Key was sent before with another request: send a new key for a new ticket",
            errors={"Idempotency-Key": ["already used for a request with other fields"]},
        )
    ticket = session.get(Ticket, earlier.ticket_id) if earlier is not None and earlier.ticket_id else None
    if ticket is None:  # the first request's ticket is gone
        raise Conflict("the ticket this Idempotency-Key opened no longer exists; send a new key")
    return ticket


def _parties_query(*, by_client_id: bool) -> Select[tuple[Client, Contact, Equipment]]:
    """The client (with its contracts), its contact of an e-mail address and its equipment of a serial, in one query.

    Built once with bound parameters: building it and deriving its cache key on every request costs as much as the
    query itself.
    """
    client = Client.id == bindparam("client_id") if by_client_id else Client.code == bindparam("code")
    return (
        select(Client, Contact, Equipment)
        .outerjoin(Contact, (Contact.client_id == Client.id) & (Contact.email == bindparam("email")))
        .outerjoin(Equipment, (Equipment.client_id == Client.id) & (Equipment.serial == bindparam("serial")))
        .options(joinedload(Client.contracts))
        .where(client)
    )


PARTIES_BY_CODE = _parties_query(by_client_id=False)
PARTIES_OF_CLIENT_USER = _parties_query(by_client_id=True)


def _parties(
    session: Session, user: Caller, code: str | None, email: str, serial: str | None
) -> tuple[Client, Contact | None, Equipment | None]:
    """The ticket's client, its known contact and its equipment (422 when the client or the serial is unknown)."""
    params: dict[str, object] = {"email": email, "serial": serial or ""}
    if user.client_id is not None:
        query, params["client_id"] = PARTIES_OF_CLIENT_USER, user.client_id
    elif code:
        query, params["code"] = PARTIES_BY_CODE, code
    else:
        raise Invalid("the client is missing", errors={"client": ["Missing data for required field."]})
    row = session.execute(query, params).unique().one_or_none()
    if row is None:
        raise Invalid("unknown client", errors={"client": [f"no client {code!r}"]})
    client, contact, equipment = row
    if user.client_id is not None and code and code != client.code:
        raise Forbidden("a client user opens tickets only for their own company")
    if serial and equipment is None:
        raise unknown_equipment(serial)
    return client, contact, equipment


#: The columns of a ticket in the list: what `TicketListItemSchema` shows, read by one query with no object per row.
LIST_COLUMNS = (
    Ticket.id,
    Ticket.number,
    Ticket.created_at,
    Ticket.updated_at,
    Ticket.closed_at,
    Ticket.status,
    Client.code.label("client"),
    Contact.email.label("contact_email"),
    Contact.confirmed.label("contact_confirmed"),
    Equipment.serial.label("equipment_serial"),
    Ticket.channel,
    Ticket.summary,
    Ticket.severity,
    Ticket.category,
    Ticket.route,
    Ticket.paid,
    Ticket.team,
    Ticket.level,
    Ticket.circle,
    Ticket.folder_url,
)


def list_tickets(
    session: Session,
    *,
    user: Caller,
    status: str | None = None,
    team: str | None = None,
    client: str | None = None,
    severity: str | None = None,
    cursor: str | None = None,
    page_size: int = 50,
) -> Page[Any]:
    """A page of the visible tickets, newest first (by creation, then number), after the cursor's ticket.

    The creation time and id of a ticket never change, so tickets opened or moved to another status between two pages
    neither shift the others nor appear twice; a ticket that leaves the filter between pages is not shown again."""
    query = (
        visible_tickets(user)
        .with_only_columns(*LIST_COLUMNS, maintain_column_froms=False)
        .select_from(Ticket)
        .join(Client, Client.id == Ticket.client_id)
        .join(Contact, Contact.id == Ticket.contact_id)
        .outerjoin(Equipment, Equipment.id == Ticket.equipment_id)
    )
    if status:
        query = query.where(Ticket.status == status)
    if team:
        query = query.where(Ticket.team == team)
    if client:
        query = query.where(Client.code == client)
    if severity:
        query = query.where(Ticket.severity == severity)
    return keyset_rows(
        session,
        query,
        list_name="tickets",
        keys=(Ticket.created_at, Ticket.id),
        descending=True,
        cursor=cursor,
        page_size=page_size,
    )


def get_ticket(session: Session, *, user: Caller, number: str) -> Ticket:
    """One visible ticket by number (404 when it does not exist or the user may not see it)."""
    ticket = session.scalar(visible_tickets(user).where(Ticket.number == number))
    if ticket is None:
        raise NotFound(f"no ticket {number}")
    return ticket


def ticket_details(session: Session, ticket: Ticket) -> Augmented:
    """The ticket with its open tasks and the decisions taken, for its detail view."""
    tasks = list(session.scalars(select(UserTask).where(UserTask.ticket_id == ticket.id, UserTask.state == OPEN)))
    decisions = list(
        session.scalars(select(DecisionRecord).where(DecisionRecord.ticket_id == ticket.id).order_by(DecisionRecord.id))
    )
    version = session.scalar(
        select(ProcessDefinition.version)
        .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessInstance.ticket_id == ticket.id)
    )
    sla = ticket_sla(session, ticket)
    contract = session.scalar(select(OneOffContract.number).where(OneOffContract.ticket_id == ticket.id))
    incidents = []
    if ticket.status == INCIDENT:  # asked only of a stopped ticket: the others' details cost no query more
        query = select(Incident).where(Incident.ticket_id == ticket.id, Incident.state == INCIDENT_OPEN)
        incidents = list(session.scalars(query.order_by(Incident.id)))
    return Augmented(
        ticket,
        open_tasks=tasks,
        decisions=decisions,
        process_version=version,
        sla=sla,
        one_off_contract=contract,
        open_incidents=incidents,
    )


def ticket_history(
    session: Session,
    *,
    user: Caller,
    ticket: Ticket,
    cursor: str | None = None,
    page_size: int = 50,
    newest_first: bool = False,
) -> Page[Any]:
    """A page of the ticket's events, oldest first (newest first when asked: the task page's card); an event is
    never changed, its id orders it.

    A client user reads only what concerns them (`history.client_visible`), with the detail trimmed to it."""
    query = select(HistoryEvent).where(HistoryEvent.ticket_id == ticket.id)
    paging: dict[str, Any] = {
        "key": HistoryEvent.id,
        "cursor": cursor,
        "page_size": page_size,
        "descending": newest_first,
    }
    if user.client_id is None:
        return keyset_page(session, query, **paging)
    page = keyset_page(session, query.where(client_visible()), **paging)
    return Page([client_event(event, user) for event in page.items], page.next)


def folder_files(ctx: Context, ticket: Ticket) -> list[str] | None:
    """The names of the files in the ticket's folder; None while it has no folder (or the store has none)."""
    if not ticket.folder_url or ctx.file_store is None or not ticket.number:
        return None
    try:
        return ctx.file_store.list_files(ticket.number)
    except FileNotFoundError:
        return None
