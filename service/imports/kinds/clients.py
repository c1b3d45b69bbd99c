"""Clients in a file: `code` is the key; the rows go through the clients' own services and schemas."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.clients import services
from service.clients.models import Client
from service.clients.schemas import ClientChangeSchema, ClientCreateSchema
from service.imports import cells
from service.imports.kinds import LOOKUP_CHUNK, Column, Kind, Loader


class ClientLoader(Loader):
    """Clients by code, created and changed by `service.clients.services`."""

    def preload(self, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        self.known: dict[str, Client] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            self.known.update((c.code, c) for c in self.session.scalars(select(Client).where(Client.code.in_(chunk))))

    def find(self, key: str) -> Client | None:
        return self.known.get(key)

    def current(self, record: Any) -> dict[str, Any]:
        return {name: getattr(record, name) for name in ClientChangeSchema().fields}

    def create(self, data: dict[str, Any]) -> None:
        services.create_client(self.session, user=self.user, data=data, source=self.source)

    def update(self, record: Any, changes: dict[str, Any]) -> None:
        services.update_client(
            self.session, user=self.user, code=record.code, changes=changes, if_match="*", source=self.source
        )


class Clients(Kind):
    name = "clients"
    key = "code"
    columns = (
        Column("code", required=True),
        Column("name", required=True),
        Column("inn"),
        Column("sector"),
        Column("active", cells.boolean),
        Column("notes", cells.text),
    )
    create_schema = ClientCreateSchema
    change_schema = ClientChangeSchema
    loader = ClientLoader

    def export_rows(self, session: Session) -> Iterable[Mapping[str, Any]]:
        for client in session.scalars(select(Client).order_by(Client.code)).yield_per(1000):
            yield {name: getattr(client, name) for name in self.headers}
