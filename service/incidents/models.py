"""Incidents: a step of a ticket's process that failed, or a job that failed every attempt, waiting for a person."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, utcnow
from service.jobs.models import Job
from service.tickets.models import Ticket

OPEN, RESOLVED = "open", "resolved"
#: What was being done when it failed: opening the ticket, completing a task, delivering a message, another step of
#: the service, or a job (an external task run by the worker).
START, COMPLETE_TASK, MESSAGE, STEP, JOB = "start", "complete_task", "message", "step", "job"
ACTIONS = (START, COMPLETE_TASK, MESSAGE, STEP, JOB)
_OPEN = text("state = 'open'")


class Incident(Base):
    """One failure that stopped a ticket's flow, with what it was doing and the data it was given, kept for a retry."""

    __tablename__ = "incident"
    #: The incidents list: open ones by id.
    __table_args__ = (Index("ix_incident_open", "id", postgresql_where=_OPEN),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for a failure of an instance beside the ticket flow (`instance_id`), which stops no ticket.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True, default=None
    )
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"), default=None, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: The submitted data of the failed action (a task's id, name and form; a message's name and data).
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    element_id: Mapped[str | None] = mapped_column(String(120), default=None)
    last_error: Mapped[str] = mapped_column(Text)
    process: Mapped[str | None] = mapped_column(String(120), default=None)
    version: Mapped[int | None] = mapped_column(default=None)
    #: The ticket's status before the incident stopped it (None when the ticket was not stopped: a job's adapter).
    previous_status: Mapped[str | None] = mapped_column(String(40), default=None)
    state: Mapped[str] = mapped_column(String(20), default=OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_by: Mapped[str | None] = mapped_column(String(80), default=None)
    ticket: Mapped[Ticket | None] = relationship(lazy="select")
    job: Mapped[Job | None] = relationship(lazy="select")

    @property
    def ticket_number(self) -> str | None:
        """The number of the incident's ticket (None for an instance beside the ticket flow)."""
        return self.ticket.number if self.ticket is not None else None

    @property
    def topic(self) -> str | None:
        """The topic of the failed job (None for a failed step)."""
        return self.job.topic if self.job is not None else None

    @property
    def attempts(self) -> int | None:
        """The failed job's attempts (None for a failed step)."""
        return self.job.attempts if self.job is not None else None

    @property
    def status(self) -> str | None:
        """The failed job's status (None for a failed step)."""
        return self.job.status if self.job is not None else None
