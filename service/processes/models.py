"""Deployed process versions and running instances."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow


class ProcessDefinition(Base):
    """An immutable deployed version of a diagram, keyed by its content hash."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(200), default="")
    xml: Mapped[str] = mapped_column(Text, deferred=True)  # read only when a version is parsed or downloaded
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    deployed_by: Mapped[str] = mapped_column(String(80), default="")
    #: What each call activity runs, as JSON: element id -> the id of the deployed version (empty: calls nothing).
    calls: Mapped[str] = mapped_column(Text, default="", server_default="", deferred=True)


class ProcessInstance(Base):
    """A running or finished instance: the engine's document plus an optimistic lock version. The ticket flow's
    instance has its `ticket_id`; an instance of another process has none, and may belong to a ticket."""

    __tablename__ = "process_instance"
    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    #: The ticket whose flow this is: one instance per ticket (NULL, and never unique, for a process beside it).
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), unique=True, default=None)
    #: The ticket a process beside the ticket flow belongs to, if any (`service.processes.standalone`).
    for_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True, default=None)
    started_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    document: Mapped[str] = mapped_column(Text)
    completed: Mapped[bool] = mapped_column(default=False)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __mapper_args__ = {"version_id_col": lock_version}
