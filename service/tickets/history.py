"""A ticket's history: every event with its time and actor, only ever added to."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.db import insert_rows, utcnow
from service.tickets.models import HistoryEvent, Ticket


def record(session: Session, ticket: Ticket, actor: str, kind: str, **detail: Any) -> None:
    """Add one event to the ticket's history (written at once: the ticket must be in the database)."""
    insert_rows(session, HistoryEvent, [history_row(ticket, actor, kind, detail)])


def history_row(ticket: Ticket, actor: str, kind: str, detail: dict[str, Any]) -> dict[str, Any]:
    """One history event as a row to insert."""
    return {"ticket_id": ticket.id, "at": utcnow(), "actor": actor, "kind": kind, "detail": detail}
