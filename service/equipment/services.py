"""The installed base: listing, reading, adding, changing, retiring and deleting equipment, each change recorded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from service.auth.models import Caller
from service.auth.permissions import Permission, allowed, authorize
from service.clients.models import Client, Equipment, Site
from service.clients.services import find_client
from service.directory import records
from service.equipment.classes import check_classes
from service.equipment.schemas import IN_SERVICE
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.paging import Page, keyset_page
from service.searching import contains

KIND = "equipment"
#: What the history records of an item (`client` and `site` by their codes).
FIELDS = (
    "serial",
    "vendor",
    "model",
    "equipment_class",
    "installed_on",
    "warranty_ends_on",
    "status",
)


def list_equipment(
    session: Session,
    *,
    user: Caller,
    q: str | None,
    client: str | None,
    site: str | None,
    equipment_class: str | None,
    status: str | None,
    cursor: str | None,
    page_size: int,
) -> Page[Equipment]:
    """A page of equipment in the order of the serials, found by serial, vendor or model."""
    authorize(user, Permission.READ_DIRECTORY)
    query = select(Equipment).options(joinedload(Equipment.client))
    if q:
        query = query.where(
            or_(contains(Equipment.serial, q), contains(Equipment.vendor, q), contains(Equipment.model, q))
        )
    if client is not None:
        query = query.where(Equipment.client_id.in_(select(Client.id).where(Client.code == client)))
    if site is not None:
        query = query.where(Equipment.site_id.in_(select(Site.id).where(Site.code == site)))
    if equipment_class is not None:
        query = query.where(Equipment.equipment_class == equipment_class)
    if status is not None:
        query = query.where(Equipment.status == status)
    return keyset_page(session, query, key=Equipment.serial, cursor=cursor, page_size=page_size)


def installed_base(session: Session, *, user: Caller) -> list[Equipment]:
    """The equipment in service of a client user's own company, by serial: what they may open a ticket on."""
    authorize(user, Permission.OPEN_TICKETS)
    if user.client_id is None:
        raise Forbidden("only a client user has an installed base of their own")
    query = select(Equipment).where(Equipment.client_id == user.client_id, Equipment.status == IN_SERVICE)
    return list(session.scalars(query.order_by(Equipment.serial)))


def find_equipment(session: Session, serial: str) -> Equipment:
    """The item with that serial (404 when there is none)."""
    item = session.scalar(select(Equipment).where(Equipment.serial == serial))
    if item is None:
        raise NotFound(f"no equipment {serial!r}")
    return item


def get_equipment(session: Session, *, user: Caller, serial: str) -> Equipment:
    """One item."""
    authorize(user, Permission.READ_DIRECTORY)
    return find_equipment(session, serial)


def _site(session: Session, client: Client, code: str | None) -> Site | None:
    """The client's site with that code (422 naming `site` when the client has none such)."""
    if code is None:
        return None
    site = session.scalar(select(Site).where(Site.client_id == client.id, Site.code == code))
    if site is None:
        detail = f"the client {client.code} has no site {code!r}"
        raise Invalid(detail, errors={"site": [detail]})
    return site


def _snapshot(item: Equipment) -> dict[str, Any]:
    return {
        **records.snapshot(item, FIELDS),
        "client": item.client.code,
        "site": item.site.code if item.site else None,
    }


def create_equipment(
    session: Session, *, user: Caller, data: Mapping[str, Any], source: str = "", client: Client | None = None
) -> Equipment:
    """A new item of a client, at one of its sites or none (409 when the serial is taken); `client`, when the caller
    holds the client of `data["client"]` already (an import looks each up once per file), saves looking it up.

    Administrators add equipment, and so do duty officers who meet an item at intake.
    """
    if not allowed(user, Permission.ADMINISTER_DIRECTORY):
        authorize(user, Permission.ADD_EQUIPMENT)
    if client is None or client.code != data["client"]:
        client = find_client(session, data["client"])
    site = _site(session, client, data.get("site"))
    check_classes(session, "equipment_class", [data["equipment_class"]])
    if session.scalar(select(Equipment.id).where(Equipment.serial == data["serial"])) is not None:
        raise Conflict(f"an item with the serial {data['serial']!r} exists already")
    fields = {key: value for key, value in data.items() if key not in ("client", "site")}
    item = Equipment(client_id=client.id, site_id=site.id if site else None, **fields)
    records.create(session, item, kind=KIND, key=item.serial, actor=user.username, shown=_snapshot, source=source)
    return item


def update_equipment(
    session: Session, *, user: Caller, serial: str, changes: Mapping[str, Any], if_match: str | None, source: str = ""
) -> Equipment:
    """Change an item from the version the caller read; `status: retired` retires it (its tickets keep it).

    An item never moves to another client (409): a client's equipment is its own, and its tickets and contracts
    name it.
    """
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    item = find_equipment(session, serial)
    records.check_version(item, if_match)
    wanted = dict(changes)
    client = wanted.pop("client", None)
    if client is not None and client != item.client.code:
        raise Conflict(
            f"the equipment {serial} belongs to {item.client.code} and cannot move to {client}; "
            "retire it and add the item to the other client under its own record"
        )
    installed = wanted.get("installed_on", item.installed_on)
    warranty = wanted.get("warranty_ends_on", item.warranty_ends_on)
    if installed is not None and warranty is not None and warranty < installed:
        detail = "the warranty cannot end before the item was installed"
        raise Invalid(detail, errors={"warranty_ends_on": [detail]})
    if "equipment_class" in wanted and wanted["equipment_class"] != item.equipment_class:
        check_classes(session, "equipment_class", [wanted["equipment_class"]])
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if "site" in wanted:
        site = _site(session, item.client, wanted.pop("site"))
        old = item.site.code if item.site else None
        new = site.code if site else None
        if old != new:
            before["site"], after["site"] = old, new
            item.site = site
    records.record_update(
        session,
        item,
        kind=KIND,
        key=serial,
        actor=user.username,
        changes=wanted,
        before=before,
        after=after,
        source=source,
    )
    return item


def delete_equipment(session: Session, *, user: Caller, serial: str, if_match: str | None) -> None:
    """Delete an item nothing refers to (409 naming the tickets or contracts that do: retire it instead)."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    item = find_equipment(session, serial)
    records.delete(session, item, kind=KIND, key=serial, actor=user.username, if_match=if_match)


def equipment_history(session: Session, *, user: Caller, serial: str, cursor: str | None, page_size: int) -> Page[Any]:
    """The changes of an item, oldest first (also after it was deleted)."""
    authorize(user, Permission.READ_DIRECTORY)
    return records.history(session, kind=KIND, key=serial, cursor=cursor, page_size=page_size)
