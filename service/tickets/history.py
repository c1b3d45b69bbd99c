"""A ticket's history: every event with its time and actor, only ever added to; and the part a client sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import Session

from service.auth.models import Caller
from service.db import utcnow
from service.rows import insert_rows
from service.tickets.models import INCIDENT, HistoryEvent, Ticket

#: The jobs whose completion a client is told of: the mails sent to the ticket's contact.
CLIENT_MAILS = ("mail.ticket_opened", "mail.estimate", "mail.ticket_declined", "mail.ticket_closed")
#: The events a client user reads, and of each the detail they may see (the rest - decisions, rules, tasks, teams,
#: levels, the people who worked it, incidents - stays inside the service desk).
CLIENT_DETAIL = {"ticket_opened": ("channel",), "status_changed": ("old", "new"), "job_done": ("topic",)}
#: Who a client reads as the actor of an event someone else of the service desk made.
SERVICE_DESK = "service_desk"


@dataclass(frozen=True)
class ClientEvent:
    """An event as a client user reads it."""

    at: datetime
    actor: str
    kind: str
    detail: dict[str, Any]


def record(session: Session, ticket: Ticket, actor: str, kind: str, **detail: Any) -> None:
    """Add one event to the ticket's history (written at once: the ticket must be in the database)."""
    insert_rows(session, HistoryEvent, [history_row(ticket, actor, kind, detail)])


def history_row(ticket: Ticket, actor: str, kind: str, detail: dict[str, Any]) -> dict[str, Any]:
    """One history event as a row to insert."""
    return {"ticket_id": ticket.id, "at": utcnow(), "actor": actor, "kind": kind, "detail": detail}


def client_visible() -> ColumnElement[bool]:
    """The events a client user reads: opened, status changes (closed and declined among them), mails to them."""
    mails = and_(HistoryEvent.kind == "job_done", HistoryEvent.detail["topic"].as_string().in_(CLIENT_MAILS))
    # a ticket stopped at an incident, and set going again, is the service desk's own business
    statuses = and_(
        HistoryEvent.kind == "status_changed",
        HistoryEvent.detail["old"].as_string() != INCIDENT,
        HistoryEvent.detail["new"].as_string() != INCIDENT,
    )
    return or_(HistoryEvent.kind == "ticket_opened", statuses, mails)


def client_event(event: HistoryEvent, user: Caller) -> ClientEvent:
    """The event with only the detail a client may see; an actor other than the user is the service desk."""
    keep = CLIENT_DETAIL.get(event.kind, ())
    detail = {key: value for key, value in (event.detail or {}).items() if key in keep}
    actor = event.actor if event.actor == user.username else SERVICE_DESK
    return ClientEvent(at=event.at, actor=actor, kind=event.kind, detail=detail)
