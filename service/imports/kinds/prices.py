"""The price list in a file: a price is named by its class, vendor, model, item and the day it is valid from (an
empty vendor or model: a price of the whole class or of every model of the vendor); `price` takes decimal commas.
The rows go through the price list's own services and schemas (`service.prices`): a row with a later `valid_from`
is a new price, and the old one is kept."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.clients.models import PriceItem
from service.imports import cells
from service.imports.kinds import Column, Kind, Loader, chunks
from service.prices import services
from service.prices.schemas import PriceChangeSchema, PriceCreateSchema

#: The fields that name a price, in the key's order.
KEY = ("equipment_class", "vendor", "model", "item", "valid_from")


def price_key(values: Mapping[str, Any]) -> str:
    """A price's key as one text: its class, vendor, model, item and first day, joined by ` | `."""
    return " | ".join(str(values[name]) for name in KEY)


class PriceLoader(Loader):
    """Prices of the file's items, looked up once (by item) and matched on the whole key."""

    def preload(self, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        items = sorted({str(row["item"]) for row in rows if row.get("item")})
        self.known: dict[str, PriceItem] = {}
        for chunk in chunks(items):
            for price in self.session.scalars(select(PriceItem).where(PriceItem.item.in_(chunk))):
                values = {name: getattr(price, name) for name in KEY}
                self.known[price_key({**values, "valid_from": price.valid_from.isoformat()})] = price

    def find(self, key: str) -> PriceItem | None:
        return self.known.get(key)

    def current(self, record: Any) -> dict[str, Any]:
        return {name: getattr(record, name) for name in ("price", "currency")}

    def create(self, data: dict[str, Any]) -> None:
        services.create_price(self.session, user=self.user, data=data, source=self.source)

    def update(self, record: Any, changes: dict[str, Any]) -> None:
        services.update_price(
            self.session, user=self.user, price_id=record.id, changes=changes, if_match="*", source=self.source
        )


class PriceList(Kind):
    name = "price-list"
    key = "item"
    key_fields = KEY
    columns = (
        Column("class", field="equipment_class", required=True),
        Column("vendor"),
        Column("model"),
        Column("item", required=True),
        Column("valid_from", cells.day, required=True),
        Column("price", cells.decimal, required=True),
        Column("currency"),
    )
    create_schema = PriceCreateSchema
    change_schema = PriceChangeSchema
    loader = PriceLoader

    def key_of(self, values: Mapping[str, Any]) -> str | None:
        if any(values.get(name) is None for name in ("equipment_class", "item", "valid_from")):
            return None
        return price_key({"vendor": "", "model": "", **values})

    def export_rows(self, session: Session) -> Iterable[Mapping[str, Any]]:
        order = [getattr(PriceItem, name) for name in KEY]
        for price in session.scalars(select(PriceItem).order_by(*order)).yield_per(1000):
            row = {name: getattr(price, name) for name in (*KEY, "price", "currency")}
            yield {**row, "class": row.pop("equipment_class")}
