"""Sites in a file: the key is the client's code and the site's code; the rows go through the sites' own services
and schemas (`service.clients.sites`), the history keyed `CLIENT/SITE`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.clients import sites
from service.clients.models import Client, Site
from service.clients.site_schemas import SiteChangeSchema, SiteCreateSchema
from service.imports import cells
from service.imports.kinds import Column, Kind, Loader, chunks


class SiteLoader(Loader):
    """Sites by client and code: the file's clients looked up once, then their sites."""

    def preload(self, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        codes = sorted({str(row["client"]) for row in rows if row.get("client")})
        self.clients: dict[str, int] = {}
        for chunk in chunks(codes):
            self.clients.update(
                self.session.execute(select(Client.code, Client.id).where(Client.code.in_(chunk))).tuples().all()
            )
        codes_of = {client_id: code for code, client_id in self.clients.items()}
        self.known: dict[str, Site] = {}
        for chunk in chunks(sorted(codes_of)):
            for site in self.session.scalars(select(Site).where(Site.client_id.in_(chunk))):
                self.known[sites.site_key(codes_of[site.client_id], site.code)] = site

    def find(self, key: str) -> Site | None:
        return self.known.get(key)

    def current(self, record: Any) -> dict[str, Any]:
        return {name: getattr(record, name) for name in SiteChangeSchema().fields}

    def check(self, data: Mapping[str, Any], record: Any | None) -> dict[str, str]:
        if record is None and data["client"] not in self.clients:
            return {"client": f"no client {data['client']!r}"}
        return {}

    def create(self, data: dict[str, Any]) -> None:
        values = {name: value for name, value in data.items() if name != "client"}
        sites.create_site(self.session, user=self.user, client=data["client"], data=values, source=self.source)

    def update(self, record: Any, changes: dict[str, Any]) -> None:
        client = next(code for code, client_id in self.clients.items() if client_id == record.client_id)
        sites.update_site(
            self.session,
            user=self.user,
            client=client,
            code=record.code,
            changes=changes,
            if_match="*",
            source=self.source,
        )


class Sites(Kind):
    name = "sites"
    key = "code"
    key_fields = ("client", "code")
    columns = (
        Column("client", required=True),
        Column("code", required=True),
        Column("name", required=True),
        Column("address"),
        Column("city"),
        Column("time_zone"),
        Column("access_notes", cells.text),
        Column("working_hours"),
        Column("active", cells.boolean),
    )
    create_schema = SiteCreateSchema
    change_schema = SiteChangeSchema
    loader = SiteLoader

    def export_rows(self, session: Session) -> Iterable[Mapping[str, Any]]:
        query = select(Site, Client.code).join(Client, Client.id == Site.client_id).order_by(Client.code, Site.code)
        for site, client in session.execute(query).yield_per(1000):
            yield {**{name: getattr(site, name) for name in self.headers if name != "client"}, "client": client}
