"""Clients: listing, reading, creating, changing, deactivating and deleting them, each change in the history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.clients.models import Client
from service.directory import records
from service.errors import Conflict, NotFound
from service.paging import Page, keyset_page
from service.searching import contains

KIND = "client"
#: What the history records of a client.
FIELDS = ("code", "name", "inn", "sector", "active", "notes")


def list_clients(
    session: Session, *, user: Caller, q: str | None, active: bool | None, cursor: str | None, page_size: int
) -> Page[Client]:
    """A page of clients in the order of their codes, found by code or name."""
    authorize(user, Permission.READ_DIRECTORY)
    query = select(Client)
    if q:
        query = query.where(or_(contains(Client.code, q), contains(Client.name, q), contains(Client.inn, q)))
    if active is not None:
        query = query.where(Client.active.is_(active))
    return keyset_page(session, query, key=Client.code, cursor=cursor, page_size=page_size)


def find_client(session: Session, code: str) -> Client:
    """The client with that code (404 when there is none)."""
    client = session.scalar(select(Client).where(Client.code == code))
    if client is None:
        raise NotFound(f"no client {code!r}")
    return client


def get_client(session: Session, *, user: Caller, code: str) -> Client:
    """One client."""
    authorize(user, Permission.READ_DIRECTORY)
    return find_client(session, code)


def create_client(session: Session, *, user: Caller, data: Mapping[str, Any], source: str = "") -> Client:
    """A new client (409 when the code is taken)."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    if session.scalar(select(Client.id).where(Client.code == data["code"])) is not None:
        raise Conflict(f"a client {data['code']!r} exists already")
    client = Client(**data)
    records.create(session, client, kind=KIND, key=client.code, actor=user.username, fields=FIELDS, source=source)
    return client


def update_client(
    session: Session, *, user: Caller, code: str, changes: Mapping[str, Any], if_match: str | None, source: str = ""
) -> Client:
    """Change a client from the version the caller read (`active: false` deactivates it)."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    client = find_client(session, code)
    records.update(
        session, client, kind=KIND, key=code, actor=user.username, if_match=if_match, changes=changes, source=source
    )
    return client


def delete_client(session: Session, *, user: Caller, code: str, if_match: str | None) -> None:
    """Delete a client nothing refers to (409 naming what does: deactivate such a client instead)."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    client = find_client(session, code)
    records.delete(session, client, kind=KIND, key=code, actor=user.username, if_match=if_match)


def client_history(session: Session, *, user: Caller, code: str, cursor: str | None, page_size: int) -> Page[Any]:
    """The changes of a client, oldest first (also after it was deleted)."""
    authorize(user, Permission.READ_DIRECTORY)
    return records.history(session, kind=KIND, key=code, cursor=cursor, page_size=page_size)
