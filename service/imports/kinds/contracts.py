"""Contracts in a file: `number` is the key; `client` names the client by code, `covers` the equipment classes and
`items` the serials of the client's equipment, each a list in one cell (`storage, network`). The rows go through
the contracts' own services and schemas (`service.contracts`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service.clients.models import Client, Contract
from service.contracts import services
from service.contracts.schemas import ContractChangeSchema, ContractCreateSchema
from service.imports import cells
from service.imports.kinds import Column, Kind, Loader, chunks

#: The columns besides the client and the lists, as the model names them.
FIELDS = services.FIELDS


class ContractLoader(Loader):
    """Contracts by number (with their items), and the clients the file names, each looked up once."""

    def preload(self, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        self.known: dict[str, Contract] = {}
        for chunk in chunks(keys):
            query = select(Contract).where(Contract.number.in_(chunk)).options(selectinload(Contract.items))
            self.known.update((contract.number, contract) for contract in self.session.scalars(query))
        codes = sorted({str(row["client"]) for row in rows if row.get("client")})
        ids = sorted({contract.client_id for contract in self.known.values()})
        self.client_codes: dict[int, str] = {}
        for column, values in ((Client.code, codes), (Client.id, ids)):
            for chunk in chunks(values):
                self.client_codes.update(
                    self.session.execute(select(Client.id, Client.code).where(column.in_(chunk))).tuples().all()
                )
        self.client_ids = {code: client_id for client_id, code in self.client_codes.items()}

    def find(self, key: str) -> Contract | None:
        return self.known.get(key)

    def current(self, record: Any) -> dict[str, Any]:
        values = {name: getattr(record, name) for name in FIELDS}
        values.update(
            client=self.client_codes.get(record.client_id), covers=record.covered_classes, items=record.item_serials
        )
        return values

    def check(self, data: Mapping[str, Any], record: Any | None) -> dict[str, str]:
        client = data.get("client")
        if record is not None:
            own = self.client_codes[record.client_id]
            if client is not None and client != own:
                return {"client": f"the contract {record.number} is of {own}: a contract never moves to {client}"}
        elif client not in self.client_ids:
            return {"client": f"no client {client!r}"}
        return {}

    def create(self, data: dict[str, Any]) -> None:
        services.create_contract(self.session, user=self.user, data=data, source=self.source)

    def update(self, record: Any, changes: dict[str, Any]) -> None:
        services.update_contract(
            self.session, user=self.user, number=record.number, changes=changes, if_match="*", source=self.source
        )


class Contracts(Kind):
    name = "contracts"
    key = "number"
    columns = (
        Column("number", required=True),
        Column("client", required=True),
        Column("starts_on", cells.day, required=True),
        Column("ends_on", cells.day, required=True),
        Column("covers", cells.words),
        Column("items", cells.words),
        Column("service_level"),
        Column("parts_included", cells.boolean),
        Column("status"),
        Column("maintenance_every_months"),
        Column("maintenance_next_on", cells.day),
    )
    create_schema = ContractCreateSchema
    change_schema = ContractChangeSchema
    loader = ContractLoader

    def export_rows(self, session: Session) -> Iterable[Mapping[str, Any]]:
        query = (
            select(Contract, Client.code)
            .join(Client, Client.id == Contract.client_id)
            .options(selectinload(Contract.items))
            .order_by(Contract.number)
        )
        for contract, client in session.execute(query):
            row = {name: getattr(contract, name) for name in FIELDS}
            yield {**row, "client": client, "covers": contract.covered_classes, "items": contract.item_serials}
