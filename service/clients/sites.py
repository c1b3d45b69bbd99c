"""A client's sites: the addresses where its equipment stands, with how and when engineers may get in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.clients.models import Site
from service.clients.services import find_client
from service.directory import records
from service.errors import Conflict, NotFound
from service.paging import Page, keyset_page
from service.searching import contains

KIND = "site"
#: What the history records of a site.
FIELDS = ("code", "name", "address", "city", "time_zone", "access_notes", "working_hours", "active")


def site_key(client_code: str, site_code: str) -> str:
    """The site's key in the history: `CLIENT/SITE`."""
    return f"{client_code}/{site_code}"


def list_sites(
    session: Session,
    *,
    user: Caller,
    client: str,
    q: str | None,
    active: bool | None,
    cursor: str | None,
    page_size: int,
) -> Page[Site]:
    """A page of the client's sites in the order of their codes, found by code, name, address or city."""
    authorize(user, Permission.READ_DIRECTORY)
    owner = find_client(session, client)
    query = select(Site).where(Site.client_id == owner.id)
    if q:
        query = query.where(
            or_(contains(Site.code, q), contains(Site.name, q), contains(Site.address, q), contains(Site.city, q))
        )
    if active is not None:
        query = query.where(Site.active.is_(active))
    return keyset_page(session, query, key=Site.code, cursor=cursor, page_size=page_size)


def find_site(session: Session, client: str, code: str) -> Site:
    """The site of that client with that code (404 when either is unknown)."""
    owner = find_client(session, client)
    site = session.scalar(select(Site).where(Site.client_id == owner.id, Site.code == code))
    if site is None:
        raise NotFound(f"no site {code!r} of the client {client!r}")
    return site


def get_site(session: Session, *, user: Caller, client: str, code: str) -> Site:
    """One site."""
    authorize(user, Permission.READ_DIRECTORY)
    return find_site(session, client, code)


def create_site(session: Session, *, user: Caller, client: str, data: Mapping[str, Any], source: str = "") -> Site:
    """A new site of the client (409 when the client has a site of that code already)."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    owner = find_client(session, client)
    taken = session.scalar(select(Site.id).where(Site.client_id == owner.id, Site.code == data["code"]))
    if taken is not None:
        raise Conflict(f"the client {client!r} has a site {data['code']!r} already")
    site = Site(client_id=owner.id, **data)
    key = site_key(client, site.code)
    records.create(session, site, kind=KIND, key=key, actor=user.username, fields=FIELDS, source=source)
    return site


def update_site(
    session: Session,
    *,
    user: Caller,
    client: str,
    code: str,
    changes: Mapping[str, Any],
    if_match: str | None,
    source: str = "",
) -> Site:
    """Change a site from the version the caller read (`active: false` deactivates it)."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    site = find_site(session, client, code)
    records.update(
        session,
        site,
        kind=KIND,
        key=site_key(client, code),
        actor=user.username,
        if_match=if_match,
        changes=changes,
        source=source,
    )
    return site


def delete_site(session: Session, *, user: Caller, client: str, code: str, if_match: str | None) -> None:
    """Delete a site no equipment stands at (409 naming what refers to it: deactivate such a site instead)."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    site = find_site(session, client, code)
    records.delete(session, site, kind=KIND, key=site_key(client, code), actor=user.username, if_match=if_match)


def site_history(
    session: Session, *, user: Caller, client: str, code: str, cursor: str | None, page_size: int
) -> Page[Any]:
    """The changes of a site, oldest first (also after it was deleted)."""
    authorize(user, Permission.READ_DIRECTORY)
    find_client(session, client)
    return records.history(session, kind=KIND, key=site_key(client, code), cursor=cursor, page_size=page_size)
