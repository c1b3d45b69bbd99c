"""The ticket that tests and benchmarks open for the demo data: NORD-BANK's disk array."""

from __future__ import annotations

from typing import Any

DEMO_TICKET: dict[str, Any] = {
    "client": "NORD-BANK",
    "contact_email": "it@nord-bank.example",
    "equipment_serial": "IBM-FS5200-0001",
    "channel": "api",
    "summary": "Array degraded",
    "severity": "high",
    "category": "hardware",
}

#: A ticket of a client without a contract: it goes the per-call way, to the consultant's estimate.
PER_CALL_TICKET: dict[str, Any] = {
    **DEMO_TICKET,
    "client": "NEW-CLIENT",
    "contact_email": "it@new-client.example",
    "equipment_serial": "CISCO-C9300-0005",
    "category": "configuration",
}
