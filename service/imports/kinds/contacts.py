"""Contacts in a file: the key is the client's code and the address (read in any case); the rows go through the
contacts' own services and schemas (`service.clients.contacts`), the history keyed `CLIENT/email`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.clients import contacts
from service.clients.contact_schemas import ContactChangeSchema, ContactCreateSchema
from service.clients.models import Client, Contact
from service.imports import cells
from service.imports.kinds import Column, Kind, Loader, chunks


class ContactLoader(Loader):
    """Contacts by client and address: the file's clients looked up once, then their contacts."""

    def preload(self, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        codes = sorted({str(row["client"]) for row in rows if row.get("client")})
        self.clients: dict[str, int] = {}
        for chunk in chunks(codes):
            self.clients.update(
                self.session.execute(select(Client.code, Client.id).where(Client.code.in_(chunk))).tuples().all()
            )
        self.codes_of = {client_id: code for code, client_id in self.clients.items()}
        self.known: dict[str, Contact] = {}
        for chunk in chunks(sorted(self.codes_of)):
            for contact in self.session.scalars(select(Contact).where(Contact.client_id.in_(chunk))):
                self.known[contacts.contact_key(self.codes_of[contact.client_id], contact.email)] = contact

    def find(self, key: str) -> Contact | None:
        return self.known.get(key)

    def current(self, record: Any) -> dict[str, Any]:
        return {name: getattr(record, name) for name in ContactChangeSchema().fields}

    def check(self, data: Mapping[str, Any], record: Any | None) -> dict[str, str]:
        if record is None and data["client"] not in self.clients:
            return {"client": f"no client {data['client']!r}"}
        return {}

    def create(self, data: dict[str, Any]) -> None:
        values = {name: value for name, value in data.items() if name != "client"}
        contacts.create_contact(self.session, user=self.user, client=data["client"], data=values, source=self.source)

    def update(self, record: Any, changes: dict[str, Any]) -> None:
        contacts.update_contact(
            self.session,
            user=self.user,
            client=self.codes_of[record.client_id],
            email=record.email,
            changes=changes,
            if_match="*",
            source=self.source,
        )


class Contacts(Kind):
    name = "contacts"
    key = "email"
    key_fields = ("client", "email")
    columns = (
        Column("client", required=True),
        Column("email", required=True),
        Column("name"),
        Column("phone"),
        Column("position"),
        Column("language"),
        Column("confirmed", cells.boolean),
        Column("portal_access", cells.boolean),
        Column("active", cells.boolean),
    )
    create_schema = ContactCreateSchema
    change_schema = ContactChangeSchema
    loader = ContactLoader

    def key_of(self, values: Mapping[str, Any]) -> str | None:
        if values.get("client") is None or values.get("email") is None:
            return None
        return contacts.contact_key(str(values["client"]), contacts.normal_email(str(values["email"])))

    def export_rows(self, session: Session) -> Iterable[Mapping[str, Any]]:
        query = (
            select(Contact, Client.code)
            .join(Client, Client.id == Contact.client_id)
            .order_by(Client.code, Contact.email)
        )
        for contact, client in session.execute(query).yield_per(1000):
            yield {**{name: getattr(contact, name) for name in self.headers if name != "client"}, "client": client}
