"""Planned preventive maintenance: for each contract whose maintenance is due, one maintenance ticket per covered
equipment item, opened once per item and period, then the contract's next due date.

Run by the job of the shipped `preventive-maintenance` process (its topic `maintenance.open_due`), which a daily
timer start event starts. A second run on the same day, or two at once, opens nothing more: each item's visit of a
period is one row of `maintenance_visit`, inserted only when absent, before its ticket is opened.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.clients.models import Contact, Contract, Equipment
from service.context import Context
from service.contracts.models import MaintenanceVisit
from service.db import insert_unless_present, is_postgres
from service.errors import ProcessFailed
from service.incidents.records import record_failure
from service.processes.instances import start_instance
from service.tickets.models import Ticket
from service.tickets.services import new_ticket

#: Who opens the maintenance tickets, in their history.
ACTOR = "maintenance"
CHANNEL, CATEGORY = "planned", "maintenance"


@dataclass(frozen=True)
class MaintenanceRun:
    """What one run did: the tickets it opened, and the contracts it found due."""

    opened: tuple[str, ...]
    contracts: int


def add_months(day: date, months: int) -> date:
    """`day` moved on by calendar months (the 31st becomes the month's last day)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def next_due(due_on: date, every_months: int, today: date) -> date:
    """The first due date of the schedule after `today` (a late run opens one period, not every missed one)."""
    following = add_months(due_on, every_months)
    while following <= today:
        following = add_months(following, every_months)
    return following


def open_due_maintenance(session: Session, ctx: Context, *, today: date) -> MaintenanceRun:
    """Open the maintenance tickets due by `today` and move each due contract's next date on (in the caller's
    transaction; PostgreSQL locks the due contracts, so two runs take turns)."""
    query = (
        select(Contract)
        .where(Contract.status == "active", Contract.maintenance_every_months.is_not(None))
        .where(Contract.starts_on <= today, Contract.ends_on >= today)
        .order_by(Contract.id)
    )
    if is_postgres(session):
        query = query.with_for_update(of=Contract)
    opened: list[str] = []
    due = [contract for contract in session.scalars(query) if _due_on(contract) <= today]
    for contract in due:
        due_on, every = _due_on(contract), contract.maintenance_every_months or 1
        opened += _open_for(session, ctx, contract, due_on)
        contract.maintenance_next_on = next_due(due_on, every, today)
    return MaintenanceRun(tuple(opened), len(due))


def _due_on(contract: Contract) -> date:
    return contract.maintenance_next_on or contract.starts_on


def _open_for(session: Session, ctx: Context, contract: Contract, due_on: date) -> list[str]:
    contact = session.scalar(
        select(Contact)
        .where(Contact.client_id == contract.client_id)
        .order_by(Contact.confirmed.desc(), Contact.id)
        .limit(1)
    )
    if contact is None:  # nobody to tell: the tickets wait for the client's first contact
        return []
    items = session.scalars(
        select(Equipment)
        .where(Equipment.client_id == contract.client_id, Equipment.status == "in_service")
        .order_by(Equipment.id)
    )
    numbers = []
    for item in items:
        if not contract.covers_equipment(item):
            continue
        visit = {"contract_id": contract.id, "equipment_id": item.id, "due_on": due_on}
        visit_id = insert_unless_present(session, MaintenanceVisit, visit, unique=tuple(visit))
        if visit_id is None:  # opened before, by this run's predecessor
            continue
        ticket = _open_ticket(session, ctx, contract, contact, item, due_on)
        session.execute(update(MaintenanceVisit).where(MaintenanceVisit.id == visit_id).values(ticket_id=ticket.id))
        numbers.append(ticket.number or "")
    return numbers


def _open_ticket(
    session: Session, ctx: Context, contract: Contract, contact: Contact, item: Equipment, due_on: date
) -> Ticket:
    fields = {
        "channel": CHANNEL,
        "category": CATEGORY,
        "severity": "normal",
        "summary": f"Плановое обслуживание / Planned maintenance: {item.model} ({item.serial})",
        "description": (
            f"Плановое профилактическое обслуживание по договору {contract.number}, срок {due_on.isoformat()}.\n"
            f"Preventive maintenance under contract {contract.number}, due {due_on.isoformat()}."
        ),
    }
    ticket = new_ticket(session, actor=ACTOR, client=contract.client, contact=contact, equipment=item, fields=fields)
    try:
        start_instance(session, ctx, ticket=ticket, actor=ACTOR)
    except ProcessFailed as failure:  # the ticket is kept, stopped at an incident, as any opened ticket
        if failure.database:
            raise
        record_failure(session, failure)
    return ticket
