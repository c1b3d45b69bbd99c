"""The facts about a ticket that the diagrams and the rules read."""

from __future__ import annotations

from datetime import date
from typing import Any

from service.clients.models import Contract
from service.tickets.models import Ticket


def contract_for(contracts: list[Contract], day: date) -> Contract | None:
    """The contract in force on `day`, or else the one that ended last."""
    in_force = [contract for contract in contracts if contract.in_force(day)]
    if in_force:
        return max(in_force, key=lambda contract: contract.ends_on)
    return max(contracts, key=lambda contract: contract.ends_on, default=None)


def ticket_facts(ticket: Ticket, *, today: date) -> dict[str, Any]:
    """The ticket's variables: who, what, and what the client's contract says about it."""
    equipment = ticket.equipment
    equipment_class = equipment.equipment_class if equipment else ""
    site = equipment.site if equipment else None
    contract = contract_for(ticket.client.contracts, today)
    if contract is None:
        status = "none"
    elif contract.in_force(today):
        status = "active"
    else:
        status = "expired"
    return {
        "ticket": ticket.number,
        "client": ticket.client.code,
        "client_name": ticket.client.name,
        "client_sector": ticket.client.sector,
        "contact_email": ticket.contact.email,
        "channel": ticket.channel,
        "summary": ticket.summary,
        "description": ticket.description,
        "severity": ticket.severity,
        "category": ticket.category,
        "equipment_serial": equipment.serial if equipment else "",
        "equipment_class": equipment_class,
        "equipment_vendor": equipment.vendor if equipment else "",
        "site_city": site.city if site else "",
        "contract_status": status,
        "contract_covers_class": bool(contract and equipment_class and contract.covers_class(equipment_class)),
        "service_level": contract.service_level if contract and status == "active" else "",
    }
