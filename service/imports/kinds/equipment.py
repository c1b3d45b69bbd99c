"""Equipment in a file: `serial` is the key; `client` names the client by code and `site` a site of that client by
its code. Until the equipment has services of its own, this loader writes through `service.directory.records`
(history kind `equipment`, key the serial); new items are flushed in batches."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from marshmallow import Schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.clients.models import Client, Equipment, Site
from service.directory import records
from service.directory.records import Action
from service.equipment.classes import known_classes
from service.fields import Choice, Code, Day, Line
from service.imports import cells
from service.imports.kinds import LOOKUP_CHUNK, Column, Kind, Loader

HISTORY_KIND = "equipment"
STATUSES = ("in_service", "retired")
#: What the history records of an item (the client and site by their codes).
FIELDS = (
    "serial",
    "client",
    "site",
    "vendor",
    "model",
    "equipment_class",
    "installed_on",
    "warranty_ends_on",
    "status",
)


class EquipmentChangeSchema(Schema):
    """The fields of an item a row may change (the serial never changes)."""

    client = Code(max_length=40)
    site = Code(max_length=40, allow_none=True)
    vendor = Line(max_length=80, min_length=1)
    model = Line(max_length=200, min_length=1)
    equipment_class = Code(max_length=40)
    installed_on = Day(allow_none=True)
    warranty_ends_on = Day(allow_none=True)
    status = Choice(STATUSES)


class EquipmentCreateSchema(EquipmentChangeSchema):
    """A new item."""

    serial = Code(max_length=80, required=True)
    client = Code(max_length=40, required=True)
    site = Code(max_length=40, allow_none=True, load_default=None)
    vendor = Line(max_length=80, min_length=1, required=True)
    model = Line(max_length=200, min_length=1, required=True)
    equipment_class = Code(max_length=40, required=True)
    installed_on = Day(allow_none=True, load_default=None)
    warranty_ends_on = Day(allow_none=True, load_default=None)
    status = Choice(STATUSES, load_default="in_service")


class EquipmentLoader(Loader):
    """Items by serial; their clients by code and the clients' sites, each looked up once for the whole file."""

    def preload(self, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        self.known: dict[str, Equipment] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            items = self.session.scalars(select(Equipment).where(Equipment.serial.in_(chunk)))
            self.known.update((item.serial, item) for item in items)
        codes = sorted({str(row["client"]) for row in rows if row.get("client")})
        ids = sorted({item.client_id for item in self.known.values()})
        self.clients: dict[str, Client] = {}
        self.client_codes: dict[int, str] = {}
        for column, values in ((Client.code, codes), (Client.id, ids)):
            for start in range(0, len(values), LOOKUP_CHUNK):
                query = select(Client.id, Client.code).where(column.in_(values[start : start + LOOKUP_CHUNK]))
                for client_id, code in self.session.execute(query):
                    self.client_codes[client_id] = code
        self.client_ids = {code: client_id for client_id, code in self.client_codes.items()}
        self.sites: dict[tuple[int, str], int] = {}
        self.site_codes: dict[int, str] = {}
        client_ids = sorted(self.client_codes)
        for start in range(0, len(client_ids), LOOKUP_CHUNK):
            sites = select(Site.id, Site.client_id, Site.code).where(
                Site.client_id.in_(client_ids[start : start + LOOKUP_CHUNK])
            )
            for site_id, client_id, code in self.session.execute(sites):
                self.sites[(client_id, code)] = site_id
                self.site_codes[site_id] = code
        self.classes = set(known_classes(self.session))

    def find(self, key: str) -> Equipment | None:
        return self.known.get(key)

    def current(self, record: Any) -> dict[str, Any]:
        values = {name: getattr(record, name) for name in FIELDS if name not in ("client", "site")}
        values["client"] = self.client_codes.get(record.client_id)
        values["site"] = self.site_codes.get(record.site_id) if record.site_id is not None else None
        return values

    def check(self, data: Mapping[str, Any], record: Any | None) -> dict[str, str]:
        client = data.get("client")
        if client is None and record is not None:
            client = self.client_codes.get(record.client_id)
        if client not in self.client_ids:
            return {"client": f"no client {client!r}"}
        client_id = self.client_ids[client]
        if record is not None and record.client_id != client_id:
            owner = self.client_codes.get(record.client_id)
            return {"client": f"the item belongs to {owner} and cannot move to {client}"}
        if "equipment_class" in data and data["equipment_class"] not in self.classes:
            return {"equipment_class": f"no team serves the equipment class {data['equipment_class']!r}"}
        site = data.get("site")
        if site is not None and (client_id, site) not in self.sites:
            return {"site": f"the client {client} has no site {site!r}"}
        return {}

    def _references(self, data: Mapping[str, Any], client_id: int) -> dict[str, Any]:
        """The row's values as the model's columns: the client and site codes as their ids."""
        values = {name: value for name, value in data.items() if name not in ("client", "site")}
        if "client" in data:
            client_id = self.client_ids[data["client"]]
            values["client_id"] = client_id
        if "site" in data:
            values["site_id"] = self.sites[(client_id, data["site"])] if data["site"] is not None else None
        return values

    def create(self, data: dict[str, Any]) -> None:
        item = Equipment(**self._references(data, self.client_ids[data["client"]]))
        self.session.add(item)
        after = {name: records.plain(data.get(name)) for name in FIELDS}
        records.record_change(
            self.session,
            kind=HISTORY_KIND,
            key=data["serial"],
            actor=self.user.username,
            action=Action.CREATED,
            before=None,
            after=after,
            source=self.source,
        )

    def update(self, record: Any, changes: dict[str, Any]) -> None:
        client_id = record.client_id
        if "site" in changes and "client" not in changes:
            changes = {**changes, "client": self.client_codes[client_id]}  # a site is named within its client
        records.update(
            self.session,
            record,
            kind=HISTORY_KIND,
            key=record.serial,
            actor=self.user.username,
            if_match="*",
            changes=self._references(changes, client_id),
            source=self.source,
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
            row = {name: getattr(item, name) for name in FIELDS if name not in ("client", "site")}
            yield {**row, "client": client, "site": site}
