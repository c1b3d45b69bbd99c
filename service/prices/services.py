"""The price list: listing (also as valid on a day), reading, adding, changing and deleting prices, each change in
the history; and the prices an estimate shows for one piece of equipment on one day."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.clients.models import Equipment, PriceItem
from service.directory import records
from service.errors import Conflict, Invalid, NotFound
from service.paging import Page, keyset_page
from service.searching import contains

KIND = "price_item"
#: What the history records of a price.
FIELDS = ("equipment_class", "vendor", "model", "item", "price", "currency", "valid_from")
#: The columns that name one item of the list; its prices differ by `valid_from`.
IDENTITY = ("equipment_class", "vendor", "model", "item")


@dataclass(frozen=True)
class PriceFilter:
    """What a price list page is narrowed to; `on` keeps only the prices valid on that day."""

    equipment_class: str | None = None
    vendor: str | None = None
    model: str | None = None
    item: str | None = None
    on: date | None = None
    q: str | None = None


def _valid_on(day: date) -> Any:
    """The condition that a row is the price of its item valid on `day`: in force by then and not yet replaced."""
    newer = aliased(PriceItem)
    replaced = exists().where(
        *(getattr(newer, name) == getattr(PriceItem, name) for name in IDENTITY),
        newer.valid_from <= day,
        newer.valid_from > PriceItem.valid_from,
    )
    return and_(PriceItem.valid_from <= day, ~replaced)


def list_prices(
    session: Session, *, user: Caller, where: PriceFilter, cursor: str | None, page_size: int
) -> Page[PriceItem]:
    """A page of prices in the order they were added, narrowed by `where`."""
    authorize(user, Permission.READ_DIRECTORY)
    query = select(PriceItem)
    for name in IDENTITY:
        value = getattr(where, name)
        if value is not None:
            query = query.where(getattr(PriceItem, name) == value)
    if where.on is not None:
        query = query.where(_valid_on(where.on))
    if where.q:
        query = query.where(or_(*(contains(getattr(PriceItem, name), where.q) for name in IDENTITY)))
    return keyset_page(session, query, key=PriceItem.id, cursor=cursor, page_size=page_size)


def find_price(session: Session, price_id: int) -> PriceItem:
    """The price with that id (404 when there is none)."""
    price = session.get(PriceItem, price_id)
    if price is None:
        raise NotFound(f"no price {price_id}")
    return price


def get_price(session: Session, *, user: Caller, price_id: int) -> PriceItem:
    """One price."""
    authorize(user, Permission.READ_DIRECTORY)
    return find_price(session, price_id)


def _check(session: Session, values: Mapping[str, Any], *, other_than: int | None = None) -> None:
    """Refuse a model without its vendor (422) and a second price of one item from the same day (409)."""
    if values["model"] and not values["vendor"]:
        raise Invalid("a price of a model names its vendor", errors={"vendor": ["required with a model"]})
    query = select(PriceItem.id).where(
        *(getattr(PriceItem, name) == values[name] for name in (*IDENTITY, "valid_from"))
    )
    if other_than is not None:
        query = query.where(PriceItem.id != other_than)
    taken = session.scalar(query)
    if taken is not None:
        raise Conflict(f"price {taken} is the price of that item from {values['valid_from']} already", price=taken)


def create_price(session: Session, *, user: Caller, data: Mapping[str, Any], source: str = "") -> PriceItem:
    """A new price; one of an item that has a price already, from a later day, is how that price changes."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    _check(session, data)
    price = PriceItem(**data)
    session.add(price)
    session.flush()
    records.create(session, price, kind=KIND, key=str(price.id), actor=user.username, fields=FIELDS, source=source)
    return price


def update_price(
    session: Session,
    *,
    user: Caller,
    price_id: int,
    changes: Mapping[str, Any],
    if_match: str | None,
    source: str = "",
) -> PriceItem:
    """Correct a price from the version the caller read (a new price from a later day keeps the old one instead)."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    price = find_price(session, price_id)
    records.check_version(price, if_match)
    _check(session, {**{name: getattr(price, name) for name in FIELDS}, **changes}, other_than=price.id)
    records.update(
        session,
        price,
        kind=KIND,
        key=str(price.id),
        actor=user.username,
        if_match=if_match,
        changes=changes,
        source=source,
    )
    return price


def delete_price(session: Session, *, user: Caller, price_id: int, if_match: str | None) -> None:
    """Delete a price; one-off contracts keep the lines they copied from it, and its history stays."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    price = find_price(session, price_id)
    records.delete(session, price, kind=KIND, key=str(price_id), actor=user.username, if_match=if_match)


def price_history(session: Session, *, user: Caller, price_id: int, cursor: str | None, page_size: int) -> Page[Any]:
    """The changes of a price, oldest first (also after it was deleted)."""
    authorize(user, Permission.READ_DIRECTORY)
    return records.history(session, kind=KIND, key=str(price_id), cursor=cursor, page_size=page_size)


def _specificity(price: PriceItem, equipment: Equipment) -> int | None:
    """2 for a price of the equipment's vendor and model, 1 of its vendor, 0 of its whole class, None otherwise."""
    vendor, model = price.vendor.casefold(), price.model.casefold()
    if not vendor:
        return 0 if not model else None
    if vendor != equipment.vendor.casefold():
        return None
    if not model:
        return 1
    return 2 if model == equipment.model.casefold() else None


def prices_for(session: Session, *, equipment: Equipment, day: date) -> list[PriceItem]:
    """The price of each item of the equipment's class valid on `day`: of its vendor and model over one of its
    vendor over one of the whole class, the latest in force of those; in the order of the items."""
    query = select(PriceItem).where(PriceItem.equipment_class == equipment.equipment_class, PriceItem.valid_from <= day)
    best: dict[str, tuple[tuple[int, date], PriceItem]] = {}
    for price in session.scalars(query):
        level = _specificity(price, equipment)
        if level is None:
            continue
        rank = (level, price.valid_from)
        if price.item not in best or rank > best[price.item][0]:
            best[price.item] = (rank, price)
    return [best[item][1] for item in sorted(best)]
