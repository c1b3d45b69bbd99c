"""Contracts: listing, reading, creating, changing, stopping and deleting them, each change in the history.

The API names what a contract covers as a list of classes (stored space-separated) and a list of the client's
equipment serials (stored in `contract_equipment`); the history shows both as lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.clients.models import Client, Contract, Equipment
from service.clients.services import find_client
from service.directory import records
from service.equipment.classes import check_classes
from service.errors import Conflict, Invalid, NotFound
from service.paging import Page, keyset_page
from service.searching import contains
from service.sla.models import ServiceLevel

KIND = "contract"
#: What the history records of a contract besides its client, classes and items.
FIELDS = (
    "number",
    "starts_on",
    "ends_on",
    "service_level",
    "parts_included",
    "status",
    "maintenance_every_months",
    "maintenance_next_on",
)


def list_contracts(
    session: Session,
    *,
    user: Caller,
    q: str | None,
    client: str | None,
    status: str | None,
    cursor: str | None,
    page_size: int,
) -> Page[Contract]:
    """A page of contracts in the order of their numbers, found by number or service level."""
    authorize(user, Permission.READ_DIRECTORY)
    query = select(Contract).options(joinedload(Contract.client), selectinload(Contract.items))
    if q:
        query = query.where(or_(contains(Contract.number, q), contains(Contract.service_level, q)))
    if client is not None:
        query = query.where(Contract.client_id.in_(select(Client.id).where(Client.code == client)))
    if status is not None:
        query = query.where(Contract.status == status)
    return keyset_page(session, query, key=Contract.number, cursor=cursor, page_size=page_size)


def find_contract(session: Session, number: str) -> Contract:
    """The contract with that number (404 when there is none)."""
    contract = session.scalar(select(Contract).where(Contract.number == number))
    if contract is None:
        raise NotFound(f"no contract {number!r}")
    return contract


def get_contract(session: Session, *, user: Caller, number: str) -> Contract:
    """One contract."""
    authorize(user, Permission.READ_DIRECTORY)
    return find_contract(session, number)


def _covers(session: Session, classes: Sequence[str]) -> str:
    """The classes as stored: space-separated, each once, in the order of `known_classes` (422 for an unknown one)."""
    return " ".join(check_classes(session, "covers", classes))


def _items(session: Session, client: Client, serials: Sequence[str]) -> list[Equipment]:
    """The client's equipment with those serials (422 naming `items` for a serial of none, or of another client)."""
    wanted = list(dict.fromkeys(serials))
    if not wanted:
        return []
    found = {
        item.serial: item
        for item in session.scalars(
            select(Equipment).where(Equipment.client_id == client.id, Equipment.serial.in_(wanted))
        )
    }
    missing = [serial for serial in wanted if serial not in found]
    if missing:
        detail = f"not equipment of the client {client.code}: {', '.join(missing)}"
        raise Invalid(detail, errors={"items": [detail]})
    return [found[serial] for serial in wanted]


def _service_level(session: Session, name: str) -> None:
    """Refuse (422 naming `service_level`) a name no service level has; empty is allowed."""
    if name and session.scalar(select(ServiceLevel.id).where(ServiceLevel.name == name)) is None:
        detail = f"no service level {name!r} (GET /sla/service-levels lists them)"
        raise Invalid(detail, errors={"service_level": [detail]})


def _snapshot(contract: Contract) -> dict[str, Any]:
    return {
        **records.snapshot(contract, FIELDS),
        "client": contract.client.code,
        "covers": contract.covered_classes,
        "items": contract.item_serials,
    }


def create_contract(session: Session, *, user: Caller, data: Mapping[str, Any], source: str = "") -> Contract:
    """A new contract of a client (409 when the number is taken)."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    client = find_client(session, data["client"])
    if session.scalar(select(Contract.id).where(Contract.number == data["number"])) is not None:
        raise Conflict(f"a contract {data['number']!r} exists already")
    _service_level(session, data["service_level"])
    items = _items(session, client, data["items"])
    fields = {key: value for key, value in data.items() if key not in ("client", "covers", "items")}
    contract = Contract(client_id=client.id, covers=_covers(session, data["covers"]), items=items, **fields)
    records.create(
        session, contract, kind=KIND, key=contract.number, actor=user.username, shown=_snapshot, source=source
    )
    return contract


def update_contract(
    session: Session, *, user: Caller, number: str, changes: Mapping[str, Any], if_match: str | None, source: str = ""
) -> Contract:
    """Change a contract from the version the caller read (`status: terminated` or `suspended` stops it
    entitling)."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    contract = find_contract(session, number)
    records.check_version(contract, if_match)
    wanted = dict(changes)
    starts = wanted.get("starts_on", contract.starts_on)
    ends = wanted.get("ends_on", contract.ends_on)
    if ends < starts:
        detail = "the contract cannot end before it starts"
        raise Invalid(detail, errors={"ends_on": [detail]})
    if "service_level" in wanted:
        _service_level(session, wanted["service_level"])
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if "covers" in wanted:
        covers = _covers(session, wanted.pop("covers"))
        if covers != contract.covers:
            before["covers"], after["covers"] = contract.covered_classes, covers.split()
            contract.covers = covers
    if "items" in wanted:
        items = _items(session, contract.client, wanted.pop("items"))
        serials = [item.serial for item in items]
        if serials != contract.item_serials:
            before["items"], after["items"] = contract.item_serials, serials
            contract.items = items
    records.record_update(
        session,
        contract,
        kind=KIND,
        key=number,
        actor=user.username,
        changes=wanted,
        before=before,
        after=after,
        source=source,
    )
    return contract


def delete_contract(session: Session, *, user: Caller, number: str, if_match: str | None) -> None:
    """Delete a contract nothing refers to (409 naming what does: terminate it instead); its list of items goes
    with it."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    contract = find_contract(session, number)
    records.delete(session, contract, kind=KIND, key=number, actor=user.username, if_match=if_match)


def contract_history(session: Session, *, user: Caller, number: str, cursor: str | None, page_size: int) -> Page[Any]:
    """The changes of a contract, oldest first (also after it was deleted)."""
    authorize(user, Permission.READ_DIRECTORY)
    return records.history(session, kind=KIND, key=number, cursor=cursor, page_size=page_size)
