"""Tickets, their history and the decisions taken on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.clients.models import Client, Contact, Equipment
from service.db import Base, utcnow


class Ticket(Base):
    """The ticket summary: a projection of its instance, written in the same transaction."""

    __tablename__ = "ticket"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"))
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"), default=None)
    channel: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(20), default="normal")
    category: Mapped[str] = mapped_column(String(20), default="hardware")
    status: Mapped[str] = mapped_column(String(40), default="new", index=True)
    route: Mapped[str | None] = mapped_column(String(20), default=None)
    paid: Mapped[bool] = mapped_column(default=False)
    team: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    level: Mapped[int | None] = mapped_column(default=None)
    circle: Mapped[int | None] = mapped_column(default=None)
    folder_url: Mapped[str | None] = mapped_column(String(500), default=None)
    created_by: Mapped[str] = mapped_column(String(80), default="")

    client: Mapped[Client] = relationship(lazy="joined")
    contact: Mapped[Contact] = relationship(lazy="joined")
    equipment: Mapped[Equipment | None] = relationship(lazy="joined")


class HistoryEvent(Base):
    """Something that happened to a ticket, with its time and actor."""

    __tablename__ = "history_event"
    __table_args__ = (Index("ix_history_ticket_at", "ticket_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DecisionRecord(Base):
    """A rule decision taken for a ticket: the facts, the outcome, the rule that fired and the version."""

    __tablename__ = "decision_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    element_id: Mapped[str] = mapped_column(String(120))
    ruleset: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IdempotencyKey(Base):
    """Makes a retried ticket creation return the ticket the first call created."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
