"""Equipment in a file: `serial` is the key; `client` names the client by code and `site` a site of that client by
its code. Rows go through the equipment's own services and schemas (`service.equipment`), so a file meets the same
rules as the API: the serial unique, the site of the item's client, the warranty not ending before installation,
and no item moving to another client."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from service.clients.models import Client, Equipment, Site
from service.equipment import services
from service.equipment.schemas import EquipmentChangeSchema, EquipmentCreateSchema
from service.imports import cells
from service.imports.kinds import Column, Kind, Loader, chunks

#: The columns besides the client and site, as the model names them.
FIELDS = ("serial", "vendor", "model", "equipment_class", "installed_on", "warranty_ends_on", "status")


class EquipmentLoader(Loader):
    """Items by serial; their clients by code and the clients' sites, each looked up once for the whole file."""

    def preload(self, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        self.known: dict[str, Equipment] = {}
        for chunk in chunks(keys):
            items = self.session.scalars(select(Equipment).where(Equipment.serial.in_(chunk)))
            self.known.update((item.serial, item) for item in items)
        codes = sorted({str(row["client"]) for row in rows if row.get("client")})
        ids = sorted({item.client_id for item in self.known.values()})
        self.clients: dict[str, Client] = {}
        for column, values in ((Client.code, codes), (Client.id, ids)):
            for chunk in chunks(values):
                query = select(Client).where(column.in_(chunk)).options(lazyload(Client.contracts))
                found = self.session.scalars(query)
                self.clients.update((client.code, client) for client in found)
        self.client_codes = {client.id: code for code, client in self.clients.items()}
        self.client_ids = {code: client.id for code, client in self.clients.items()}
        self.sites: set[tuple[int, str]] = set()
        self.site_codes: dict[int, str] = {}
        for chunk in chunks(sorted(self.client_codes)):
            sites = select(Site.id, Site.client_id, Site.code).where(Site.client_id.in_(chunk))
            for site_id, client_id, code in self.session.execute(sites):
                self.sites.add((client_id, code))
                self.site_codes[site_id] = code

    def find(self, key: str) -> Equipment | None:
        return self.known.get(key)

    def current(self, record: Any) -> dict[str, Any]:
        values = {name: getattr(record, name) for name in FIELDS}
        values["client"] = self.client_codes.get(record.client_id)
        values["site"] = self.site_codes.get(record.site_id) if record.site_id is not None else None
        return values

    def check(self, data: Mapping[str, Any], record: Any | None) -> dict[str, str]:
        """What the preload tells at once: an unknown client, a site of another client, a move to another client
        (the services refuse the same, one query at a time)."""
        client = data.get("client")
        if record is not None:
            own = self.client_codes[record.client_id]
            if client is not None and client != own:
                return {"client": f"the equipment {record.serial} belongs to {own} and cannot move to {client}"}
            client = own
        if client not in self.client_ids:
            return {"client": f"no client {client!r}"}
        site = data.get("site")
        if site is not None and (self.client_ids[client], site) not in self.sites:
            return {"site": f"the client {client} has no site {site!r}"}
        return {}

    def create(self, data: dict[str, Any]) -> None:
        client = self.clients[data["client"]]
        services.create_equipment(self.session, user=self.user, data=data, source=self.source, client=client)

    def update(self, record: Any, changes: dict[str, Any]) -> None:
        services.update_equipment(
            self.session, user=self.user, serial=record.serial, changes=changes, if_match="*", source=self.source
        )


class EquipmentKind(Kind):
    name = "equipment"
    key = "serial"
    columns = (
        Column("serial", required=True),
        Column("client", required=True),
        Column("site"),
        Column("vendor", required=True),
        Column("model", required=True),
        Column("equipment_class", required=True),
        Column("installed_on", cells.day),
        Column("warranty_ends_on", cells.day),
        Column("status"),
    )
    create_schema = EquipmentCreateSchema
    change_schema = EquipmentChangeSchema
    loader = EquipmentLoader

    def export_rows(self, session: Session) -> Iterable[Mapping[str, Any]]:
        query = (
            select(Equipment, Client.code, Site.code)
            .join(Client, Client.id == Equipment.client_id)
            .outerjoin(Site, Site.id == Equipment.site_id)
            .order_by(Equipment.serial)
        )
        for item, client, site in session.execute(query).yield_per(1000):
            yield {**{name: getattr(item, name) for name in FIELDS}, "client": client, "site": site}
