"""One-off (per-call) contracts: recorded when the client's acceptance of a per-call estimate is recorded, numbered
in their own series, read by those who price and manage the work and by the client's own users, marked paid by an
administrator; each change in the history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.auth.permissions import Permission, authorize
from service.clients.models import Client, OneOffContract
from service.db import lock_name, utcnow
from service.directory import records
from service.errors import NotFound
from service.paging import Page, keyset_page
from service.tickets.models import Ticket

KIND = "one_off_contract"
#: What the history records of a one-off contract.
FIELDS = ("number", "ticket", "client", "lines", "total", "currency", "accepted_by", "accepted_at", "paid", "paid_on")
#: The user task whose completion records the client's answer to the estimate, and its field that says "accepted".
ACCEPTANCE_TASK = "record_payment"
ACCEPTED_FIELD = "accepted"
PAID_FIELD = "paid"
#: The estimate form's fields that become the contract's lines, with the item each line names.
ESTIMATE_LINES = (("diagnostics_cost", "diagnostics"), ("repair_cost", "repair"), ("parts_cost", "parts"))
CURRENCY = "RUB"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ContractFilter:
    """What a page of one-off contracts is narrowed to."""

    client: str | None = None
    paid: bool | None = None
    ticket: str | None = None


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def estimate_lines(variables: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The lines of the estimate the consultant gave: item, quantity, price and amount (empty costs left out)."""
    lines = []
    for field, item in ESTIMATE_LINES:
        value = variables.get(field)
        if value in (None, "") or isinstance(value, bool) or _money(value) == 0:
            continue
        price = _money(value)
        lines.append({"item": item, "quantity": 1, "price": str(price), "amount": str(price)})
    return lines


def estimate_total(values: Mapping[str, Any]) -> Decimal:
    """The total of an estimate's costs as typed so far (what is not a number counts for nothing: the form's own
    validation refuses it): what the estimate page shows and the contract's total."""
    total = Decimal(0)
    for field, _item in ESTIMATE_LINES:
        value = values.get(field)
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            continue
        total += _money(value)
    return total.quantize(CENT)


def next_number(session: Session, *, year: int) -> str:
    """The next number of the series of `year` (`PC-2026-000001`, ...). The series' lock is held until the
    transaction ends, so two acceptances at once take turns and get two numbers."""
    lock_name(session, "one_off_contract.number")
    prefix = f"PC-{year}-"
    last = session.scalar(select(func.max(OneOffContract.number)).where(OneOffContract.number.startswith(prefix)))
    serial = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{serial:06d}"


def accepted(task_name: str, data: Mapping[str, Any]) -> bool:
    """True when completing that task with that data records the client's acceptance of the estimate."""
    return task_name == ACCEPTANCE_TASK and data.get(ACCEPTED_FIELD) is True


def record_acceptance(
    session: Session, *, ticket: Ticket, variables: Mapping[str, Any], data: Mapping[str, Any], actor: str
) -> OneOffContract:
    """The one-off contract of the ticket's accepted estimate, in the caller's transaction (the one the ticket has,
    if any: a ticket has one)."""
    existing = session.scalar(select(OneOffContract).where(OneOffContract.ticket_id == ticket.id))
    if existing is not None:
        return existing
    now = utcnow()
    lines = estimate_lines(variables)
    paid = data.get(PAID_FIELD) is True
    contract = OneOffContract(
        number=next_number(session, year=now.year),
        client_id=ticket.client_id,
        ticket_id=ticket.id,
        lines=lines,
        total=estimate_total(variables),
        currency=CURRENCY,
        accepted_by=ticket.contact.email,
        accepted_at=now,
        paid=paid,
        paid_on=now.date() if paid else None,
    )
    session.add(contract)
    session.flush()
    records.record_change(
        session,
        kind=KIND,
        key=contract.number,
        actor=actor,
        action=records.Action.CREATED,
        before=None,
        after=_snapshot(contract, ticket),
    )
    return contract


def _snapshot(contract: OneOffContract, ticket: Ticket) -> dict[str, Any]:
    values = records.snapshot(contract, [name for name in FIELDS if name not in ("ticket", "client")])
    return {**values, "ticket": ticket.number, "client": ticket.client.code}


def _visible(user: Caller) -> Select[Any]:
    """The contracts the caller may read: every one, or those of the caller's own company."""
    authorize(user, Permission.READ_ONE_OFF_CONTRACTS)
    query = select(OneOffContract)
    if user.client_id is not None:
        query = query.where(OneOffContract.client_id == user.client_id)
    return query


def list_contracts(
    session: Session, *, user: Caller, where: ContractFilter, cursor: str | None, page_size: int
) -> Page[OneOffContract]:
    """A page of the one-off contracts the caller may read, in the order of their numbers."""
    query = _visible(user)
    if where.client is not None:
        query = query.where(OneOffContract.client_id.in_(select(Client.id).where(Client.code == where.client)))
    if where.ticket is not None:
        query = query.where(OneOffContract.ticket_id.in_(select(Ticket.id).where(Ticket.number == where.ticket)))
    if where.paid is not None:
        query = query.where(OneOffContract.paid.is_(where.paid))
    return keyset_page(session, query, key=OneOffContract.number, cursor=cursor, page_size=page_size)


def get_contract(session: Session, *, user: Caller, number: str) -> OneOffContract:
    """One contract the caller may read (404 otherwise, as when there is none)."""
    contract = session.scalar(_visible(user).where(OneOffContract.number == number))
    if contract is None:
        raise NotFound(f"no one-off contract {number}")
    return contract


def update_contract(
    session: Session, *, user: Caller, number: str, changes: Mapping[str, Any], if_match: str | None
) -> OneOffContract:
    """Record the payment of a contract (`paid`, `paid_on`) from the version the caller read; marking it paid without
    a day means today, marking it unpaid clears the day."""
    authorize(user, Permission.ADMINISTER_DIRECTORY)
    contract = get_contract(session, user=user, number=number)
    records.check_version(contract, if_match)
    wanted = dict(changes)
    paid = wanted.get("paid", contract.paid)
    if not paid:
        wanted["paid_on"] = None
    elif wanted.get("paid_on") is None and contract.paid_on is None:
        wanted["paid_on"] = date.today()
    records.update(session, contract, kind=KIND, key=number, actor=user.username, if_match=if_match, changes=wanted)
    return contract


def contract_history(session: Session, *, user: Caller, number: str, cursor: str | None, page_size: int) -> Page[Any]:
    """The changes of a contract the caller may read, oldest first."""
    get_contract(session, user=user, number=number)
    return records.history(session, kind=KIND, key=number, cursor=cursor, page_size=page_size)
