"""Jobs: external service tasks waiting for the worker; a job that keeps failing is an incident."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, utcnow
from service.tickets.models import Ticket

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
#: The result of a job whose task something else ended first (an interrupting event): done, its effect not run.
CANCELLED_JOB = {"cancelled": "the task ended before its job was done"}
#: Due jobs of the built-in worker; those of topics left to outside workers have an index of their own.
_DUE = text("status IN ('pending', 'running') AND external = false")
_EXTERNAL_DUE = text("status IN ('pending', 'running') AND external = true")
_FAILED = text("status = 'failed'")
_FINISHED = text("status = 'done'")


class Job(Base):
    """One external task of one instance, run by the worker through the adapter of its topic."""

    __tablename__ = "job"
    # The claim and the retention sweep each read one range of one status. On PostgreSQL the indexes are partial,
    # so the claim's holds no finished jobs at all; SQLite can use a partial index only for a query that repeats
    # its WHERE word for word, and keeps no dead entries, so it indexes every row.
    __table_args__ = (
        Index("ix_job_due", "status", "run_after", "id", postgresql_where=_DUE),
        #: fetch-and-lock (`service.jobs.external`): due jobs of the topics outside workers serve.
        Index("ix_job_external", "run_after", "id", postgresql_where=_EXTERNAL_DUE),
        Index("ix_job_done", "status", "updated_at", "id", postgresql_where=_FINISHED),
        #: The incidents list: failed jobs by id.
        Index("ix_job_failed", "id", postgresql_where=_FAILED),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    #: The ticket of the instance (None for an instance of a process that belongs to no ticket).
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(64), unique=True)
    element_id: Mapped[str] = mapped_column(String(120))
    topic: Mapped[str] = mapped_column(String(120))
    #: A topic no adapter of the service serves: left to outside workers (fetch-and-lock), never claimed by ours.
    external: Mapped[bool] = mapped_column(default=False)
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    locked_by: Mapped[str | None] = mapped_column(String(120), default=None)
    #: Set once the side effect (the e-mail, the folder) is done, so a retry does not repeat it.
    effect_done: Mapped[bool] = mapped_column(default=False)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    #: The retries an outside worker said are left when it reported a failure (None before any failure).
    retries: Mapped[int | None] = mapped_column(default=None)
    #: The id of the request whose step created the job (or of the job whose completion did): in logs and mails.
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ticket: Mapped[Ticket | None] = relationship(lazy="select")

    @property
    def ticket_number(self) -> str | None:
        """The number of the job's ticket (None when its instance belongs to none)."""
        return self.ticket.number if self.ticket is not None else None
