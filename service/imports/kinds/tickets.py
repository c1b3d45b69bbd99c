"""Open tickets of the old system in a file: `external_ref` (the old system's number) is the key. Each new row opens a
ticket with its original opening time at the row's point of the flow (`service.tickets.importing`). A ticket once
imported is never changed by an import: the same row again is unchanged, a row that differs from the one imported is
refused (the ticket lives in the service from then on)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from marshmallow import Schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.clients.models import Client, Contact, Equipment
from service.context import Context
from service.directory.records import plain
from service.errors import Invalid
from service.fields import Choice, Code, Email, Int, Line, Moment, Text
from service.imports import cells
from service.imports.kinds import LOOKUP_CHUNK, Column, Kind, Loader
from service.teams.models import Team
from service.tickets.importing import ENGINEERING, POINTS, Imported, open_imported
from service.tickets.models import HistoryEvent, Ticket
from service.tickets.schemas import CATEGORIES, CHANNELS, SEVERITIES

STATUSES = tuple(POINTS)
#: The row's fields, as the `ticket_imported` event keeps them (a re-import is compared with these).
FIELDS = (
    "client",
    "contact_email",
    "equipment",
    "summary",
    "description",
    "severity",
    "category",
    "channel",
    "opened_at",
    "status",
    "team",
    "level",
)


class TicketRowSchema(Schema):
    """A row of an existing reference: compared with the row it was imported from."""

    client = Code(max_length=40, required=True)
    contact_email = Email(load_default=None)
    equipment = Code(max_length=80, load_default=None)
    summary = Line(required=True, min_length=1, max_length=200)
    description = Text(load_default="")
    severity = Choice(SEVERITIES, load_default="normal")
    category = Choice(CATEGORIES, load_default="hardware")
    channel = Choice(CHANNELS, load_default="phone")
    opened_at = Moment(required=True)
    status = Choice(STATUSES, required=True)
    team = Code(max_length=40, load_default=None)
    level = Int(minimum=1, maximum=3, load_default=None)


class TicketImportSchema(TicketRowSchema):
    """A ticket of the old system."""

    external_ref = Code(max_length=40, required=True)


class TicketLoader(Loader):
    """Tickets by external reference; clients with their contacts, equipment and teams looked up once per file."""

    def preload(self, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        self.known: dict[str, Ticket] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            self.known.update(
                (t.external_ref or "", t)
                for t in self.session.scalars(select(Ticket).where(Ticket.external_ref.in_(chunk)))
            )
        self.imported_rows: dict[int, dict[str, Any]] = {}
        ids = sorted(ticket.id for ticket in self.known.values())
        for start in range(0, len(ids), LOOKUP_CHUNK):
            query = select(HistoryEvent.ticket_id, HistoryEvent.detail).where(
                HistoryEvent.ticket_id.in_(ids[start : start + LOOKUP_CHUNK]), HistoryEvent.kind == "ticket_imported"
            )
            for ticket_id, detail in self.session.execute(query):
                self.imported_rows[ticket_id] = dict((detail or {}).get("row") or {})
        codes = sorted({str(row["client"]) for row in rows if row.get("client")})
        self.clients: dict[str, Client] = {}
        for start in range(0, len(codes), LOOKUP_CHUNK):
            query = select(Client).where(Client.code.in_(codes[start : start + LOOKUP_CHUNK]))
            self.clients.update((client.code, client) for client in self.session.scalars(query).unique())
        client_ids = sorted(client.id for client in self.clients.values())
        self.contacts: dict[int, list[Contact]] = {}
        self.equipment: dict[tuple[int, str], Equipment] = {}
        for start in range(0, len(client_ids), LOOKUP_CHUNK):
            chunk_ids = client_ids[start : start + LOOKUP_CHUNK]
            for contact in self.session.scalars(
                select(Contact).where(Contact.client_id.in_(chunk_ids)).order_by(Contact.id)
            ):
                self.contacts.setdefault(contact.client_id, []).append(contact)
            for item in self.session.scalars(select(Equipment).where(Equipment.client_id.in_(chunk_ids))):
                self.equipment[(item.client_id, item.serial)] = item
        self.teams = set(self.session.scalars(select(Team.code).where(Team.active.is_(True))))

    def find(self, key: str) -> Ticket | None:
        return self.known.get(key)

    def current(self, record: Any) -> dict[str, Any]:
        return self.imported_rows.get(record.id, {})

    def _contact(self, client: Client, email: str | None) -> Contact | None:
        contacts = self.contacts.get(client.id, [])
        if email is None:
            return next((contact for contact in contacts if contact.active), None)
        return next((contact for contact in contacts if contact.email.lower() == email.lower()), None)

    def check(self, data: Mapping[str, Any], record: Any | None) -> dict[str, str]:
        if record is not None:
            return {}  # compared with the row it was imported from
        client = self.clients.get(data["client"])
        if client is None:
            return {"client": f"no client {data['client']!r}"}
        problems: dict[str, str] = {}
        email = data.get("contact_email")
        if self._contact(client, email) is None:
            problems["contact_email"] = (
                f"the client {client.code} has no active contact: name one"
                if email is None
                else f"the client {client.code} has no contact {email!r}"
            )
        serial = data.get("equipment")
        if serial is not None and (client.id, serial) not in self.equipment:
            problems["equipment"] = f"the client {client.code} has no equipment {serial!r}"
        if data["opened_at"] > datetime.now(timezone.utc):
            problems["opened_at"] = "the ticket was opened in the future"
        if data["status"] in ENGINEERING:
            if data.get("team") is None:
                problems["team"] = f"a ticket {data['status']} is at a team: name the team"
            elif data["team"] not in self.teams:
                problems["team"] = f"no team {data['team']!r}"
            if data.get("level") is None:
                problems["level"] = f"a ticket {data['status']} is at a level of its team: name it (1, 2 or 3)"
        return problems

    def create(self, data: dict[str, Any]) -> None:
        if not isinstance(self.ctx, Context):
            raise Invalid("tickets are imported only where their process can be started")
        client = self.clients[data["client"]]
        contact = self._contact(client, data.get("contact_email"))
        assert contact is not None
        serial = data.get("equipment")
        engineering = data["status"] in ENGINEERING
        imported = Imported(
            external_ref=data["external_ref"],
            opened_at=data["opened_at"],
            status=data["status"],
            team=data.get("team") if engineering else None,
            level=data.get("level") if engineering else None,
            source=self.source,
            row={name: plain(data.get(name)) for name in FIELDS},
        )
        fields = {name: data[name] for name in ("channel", "summary", "description", "severity", "category")}
        open_imported(
            self.session,
            self.ctx,
            actor=self.user.username,
            client=client,
            contact=contact,
            equipment=self.equipment[(client.id, serial)] if serial else None,
            fields=fields,
            imported=imported,
        )

    def update(self, record: Any, changes: dict[str, Any]) -> None:
        before = self.current(record)
        reasons = {
            name: f"{record.number} was imported with {before.get(name)!r}: an import never changes an imported ticket"
            for name in changes
        }
        raise Invalid(f"{record.number} was imported from another row", errors=reasons)


class TicketKind(Kind):
    name = "tickets"
    key = "external_ref"
    columns = (
        Column("external_ref", required=True),
        Column("client", required=True),
        Column("contact_email"),
        Column("equipment"),
        Column("summary", required=True),
        Column("description", cells.text),
        Column("severity"),
        Column("category"),
        Column("channel"),
        Column("opened_at", cells.moment, required=True),
        Column("status", required=True),
        Column("team"),
        Column("level"),
    )
    create_schema = TicketImportSchema
    change_schema = TicketRowSchema
    loader = TicketLoader

    def export_rows(self, session: Session) -> Iterable[Mapping[str, Any]]:
        raise Invalid(
            "tickets are imported, not exported: an open ticket lives on in the service",
            errors={"kind": ["tickets cannot be exported"]},
        )
