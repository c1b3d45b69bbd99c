"""The due-timer table: one row per timer event an instance waits on, and what became of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow

WAITING, FIRED, DROPPED = "waiting", "fired", "dropped"
_WAITING = text("state = 'waiting'")


class DueTimer(Base):
    """A timer event of an instance: waiting until `due_at`, then fired by a worker once, or dropped when its task
    went away first (the user task it watched was completed, cancelling it). A cycle's row stays waiting, its
    `due_at` moved on after each firing (`fired_count`)."""

    __tablename__ = "due_timer"
    __table_args__ = (Index("ix_due_timer_due", "state", "due_at", "id", postgresql_where=_WAITING),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The instance waiting on it; None for the timer start event of a deployed version (`definition_id`), whose
    #: firing starts a new instance (`service.timers.starts`).
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True, default=None
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True, default=None)
    definition_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_definition.id", ondelete="CASCADE"), index=True, default=None
    )
    task_id: Mapped[str] = mapped_column(String(64), unique=True)
    element_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column()
    state: Mapped[str] = mapped_column(String(20), default=WAITING)
    fired_count: Mapped[int] = mapped_column(default=0)
    fired_at: Mapped[datetime | None] = mapped_column(default=None)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    locked_by: Mapped[str | None] = mapped_column(String(120), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
