"""The facts about a ticket that the diagrams and the rules read."""

from __future__ import annotations

from datetime import date
from typing import Any

from service.clients.models import Contract, Equipment
from service.tickets.models import Ticket


def contract_for(contracts: list[Contract], day: date, equipment: Equipment | None = None) -> Contract | None:
    """The contract that speaks for the ticket's equipment on `day`.

    First one that entitles (active and in force) and covers the equipment (its class or the item by name); else
    one that entitles; else one in force that is suspended or terminated; else the one that ended last. Among equals
    the one that ends last.
    """
    return max(
        contracts,
        key=lambda contract: (
            contract.entitles(day),
            contract.entitles(day) and contract.covers_equipment(equipment),
            contract.in_force(day),
            contract.ends_on,
        ),
        default=None,
    )


def contract_status(contract: Contract | None, day: date) -> str:
    """none, active (in force and entitling), suspended or terminated, or expired (outside its term)."""
    if contract is None:
        return "none"
    if contract.status != "active":
        return contract.status
    return "active" if contract.in_force(day) else "expired"


def ticket_facts(ticket: Ticket, *, today: date) -> dict[str, Any]:
    """The ticket's variables: who, what, and what the client's contract says about it."""
    equipment = ticket.equipment
    equipment_class = equipment.equipment_class if equipment else ""
    site = equipment.site if equipment else None
    contract = contract_for(ticket.client.contracts, today, equipment)
    status = contract_status(contract, today)
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
        "equipment_model": equipment.model if equipment else "",
        "contract_number": contract.number if contract else "",
        "contract_status": status,
        "contract_covers_class": bool(contract and equipment_class and contract.covers_class(equipment_class)),
        "contract_covers_equipment": bool(contract and contract.covers_equipment(equipment)),
        "service_level": contract.service_level if contract and status == "active" else "",
        "parts_included": bool(contract and status == "active" and contract.parts_included),
    }
