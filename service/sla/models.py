"""SLA tables: calendars, service levels, the ticket's timeline, clocks, due events, breach reviews, time entries."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, utcnow
from service.tickets.models import Ticket

#: Clock states; `cancelled` is only for a ticket declined before its clock ever ran.
RUNNING, PAUSED, MET, BREACHED, CANCELLED = "running", "paused", "met", "breached", "cancelled"
REACTION, RESOLUTION = "reaction", "resolution"
CLOCKS = (REACTION, RESOLUTION)
WARNING, BREACH = "warning", "breach"
#: Due SLA event states: waiting for its moment, fired (its e-mail still to send), done, e-mail failed.
PENDING, FIRED, DONE, MAIL_FAILED = "pending", "fired", "done", "mail_failed"
BREACH_REASONS = ("parts_delay", "client_unavailable", "wrong_routing", "capacity", "vendor_delay", "other")
ENTRY_KINDS = ("remote", "onsite", "travel")


class BusinessCalendar(Base):
    """Working hours per weekday in a time zone, a country's public holidays, and per-calendar extra days."""

    __tablename__ = "sla_calendar"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    #: ISO country code whose public holidays and transferred working days apply ("" for none).
    country: Mapped[str] = mapped_column(String(8), default="")
    #: {"mon": [["09:00", "18:00"]], ..., "sun": []}; "24:00" ends a day.
    hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    days: Mapped[list[CalendarDay]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="CalendarDay.day", passive_deletes=True
    )


class CalendarDay(Base):
    """An extra day off, or an extra working day (with its own hours, or the calendar's standard ones)."""

    __tablename__ = "sla_calendar_day"
    __table_args__ = (UniqueConstraint("calendar_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("sla_calendar.id", ondelete="CASCADE"))
    day: Mapped[date]
    working: Mapped[bool] = mapped_column(default=False)
    #: For a working day: its hours ("09:00", "17:00"); empty means the calendar's standard working day.
    start: Mapped[str] = mapped_column(String(5), default="")
    end: Mapped[str] = mapped_column(String(5), default="")
    note: Mapped[str] = mapped_column(String(200), default="")


class ServiceLevel(Base):
    """A service level a contract names (or `per_call`): targets per severity, counted in a calendar."""

    __tablename__ = "sla_service_level"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    calendar_id: Mapped[int] = mapped_column(ForeignKey("sla_calendar.id"))
    #: "created" (the clocks start when the ticket is opened) or "paid" (when the per-call work is paid).
    start_on: Mapped[str] = mapped_column(String(20), default="created")
    #: The clocks also pause while the ticket waits for parts.
    pause_for_parts: Mapped[bool] = mapped_column(default=False)
    #: The warning goes out at this share of the target.
    warn_percent: Mapped[int] = mapped_column(default=80)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    calendar: Mapped[BusinessCalendar] = relationship(lazy="joined")
    targets: Mapped[list[ServiceTarget]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def calendar_name(self) -> str:
        """The name of the calendar the targets count in."""
        return self.calendar.name

    @property
    def targets_by_severity(self) -> dict[str, dict[str, int]]:
        """The targets keyed by severity."""
        return {
            t.severity: {"reaction_minutes": t.reaction_minutes, "resolution_minutes": t.resolution_minutes}
            for t in self.targets
        }

    def target_for(self, severity: str) -> ServiceTarget | None:
        """The reaction and resolution targets for a severity."""
        return next((target for target in self.targets if target.severity == severity), None)


class ServiceTarget(Base):
    """Reaction and resolution targets of one severity, in minutes of the service level's calendar."""

    __tablename__ = "sla_target"
    __table_args__ = (UniqueConstraint("service_level_id", "severity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    service_level_id: Mapped[int] = mapped_column(ForeignKey("sla_service_level.id", ondelete="CASCADE"))
    severity: Mapped[str] = mapped_column(String(20))
    reaction_minutes: Mapped[int]
    resolution_minutes: Mapped[int]


class Segment(Base):
    """One stretch of a ticket's life with the same status, team, level and paid flag: the clocks' history."""

    __tablename__ = "sla_segment"
    __table_args__ = (Index("ix_sla_segment_ticket", "ticket_id", "started_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(40))
    team: Mapped[str | None] = mapped_column(String(40), default=None)
    level: Mapped[int | None] = mapped_column(default=None)
    paid: Mapped[bool] = mapped_column(default=False)
    #: Why the clocks pause in this stretch, as the open task's `sla` property says: `client`, `parts` or "" (none);
    #: None for stretches written before diagrams said so, which pause by their status (`timeline.CLIENT_WAIT`...).
    pause: Mapped[str | None] = mapped_column(String(20), default=None)


#: What the compliance report reads of a clock beside its start and client.
REPORT_COLUMNS = ("kind", "state", "stopped_at", "due_at", "elapsed_seconds")


class SlaClock(Base):
    """A ticket's reaction or resolution clock, as last computed (reports read these columns)."""

    __tablename__ = "sla_clock"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind"),
        # The compliance report of a period reads the index alone on PostgreSQL (SQLite has no INCLUDE).
        Index("ix_sla_clock_report", "started_at", "client_id", postgresql_include=list(REPORT_COLUMNS)),
        # The running clocks by deadline: those at risk and those overdue, without the stopped ones of the history.
        Index(
            "ix_sla_clock_running_due",
            "due_at",
            "id",
            postgresql_where=text("stopped_at IS NULL"),
            sqlite_where=text("stopped_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"))
    team: Mapped[str | None] = mapped_column(String(40), default=None)
    service_level: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(20))
    calendar_id: Mapped[int] = mapped_column(ForeignKey("sla_calendar.id"))
    target_seconds: Mapped[int]
    started_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)
    state: Mapped[str] = mapped_column(String(20), default=RUNNING, index=True)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    warn_at: Mapped[datetime | None] = mapped_column(default=None)
    breached_at: Mapped[datetime | None] = mapped_column(default=None)
    elapsed_seconds: Mapped[int] = mapped_column(default=0)
    paused_seconds: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaEvent(Base):
    """A warning or breach of one clock, due at a moment; the worker fires each exactly once."""

    __tablename__ = "sla_event"
    __table_args__ = (
        UniqueConstraint("ticket_id", "clock", "kind"),
        Index("ix_sla_event_due", "status", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    clock: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    #: When it is due; None while the clock is paused or stopped (then nothing fires).
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    fired_at: Mapped[datetime | None] = mapped_column(default=None)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    mail_attempts: Mapped[int] = mapped_column(default=0)
    mail_after: Mapped[datetime | None] = mapped_column(default=None)
    #: What the firing saw, for the e-mail and the record: target, team, level, recipients.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class BreachReview(Base):
    """A manager's analysis of one breach: why the deadline was missed."""

    __tablename__ = "sla_breach_review"
    #: The reviews list pages oldest first by (created_at, id), within a state or across them.
    __table_args__ = (
        Index("ix_breach_review_state_created_id", "state", "created_at", "id"),
        Index("ix_breach_review_created_id", "created_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("sla_event.id", ondelete="CASCADE"), unique=True)
    clock: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime]
    team: Mapped[str | None] = mapped_column(String(40), default=None)
    level: Mapped[int | None] = mapped_column(default=None)
    state: Mapped[str] = mapped_column(String(20), default="open", index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(80), default=None)
    reason: Mapped[str | None] = mapped_column(String(40), default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[str | None] = mapped_column(String(80), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ticket: Mapped[Ticket] = relationship(lazy="joined")

    @property
    def ticket_number(self) -> str:
        """The number of its ticket (a list reads it with the row instead)."""
        return self.ticket.number


class TimeEntry(Base):
    """Hours an engineer spent on a ticket on a day: remote, on site or travelling."""

    __tablename__ = "time_entry"
    #: The time entries list pages by (day, id), everyone's or one engineer's; utilisation sums the hours of a
    #: period per engineer from the index alone.
    __table_args__ = (
        Index("ix_time_entry_day_hours", "day", "engineer", "hours"),
        Index("ix_time_entry_day_id", "day", "id"),
        Index("ix_time_entry_engineer_day_id", "engineer", "day", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    engineer: Mapped[str] = mapped_column(String(80))
    team: Mapped[str | None] = mapped_column(String(40), default=None)
    level: Mapped[int | None] = mapped_column(default=None)
    day: Mapped[date]
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    kind: Mapped[str] = mapped_column(String(20))
    #: "task" (the `hours` of a completed task form) or "api".
    source: Mapped[str] = mapped_column(String(20), default="api")
    #: The task whose form gave the hours; unique, so one completion gives one entry.
    task_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    ticket: Mapped[Ticket] = relationship(lazy="joined")

    @property
    def ticket_number(self) -> str:
        """The number of its ticket (a list reads it with the row instead)."""
        return self.ticket.number


#: A visit not yet checked out.
_OPEN_VISIT = text("checked_out_at IS NULL")


class SiteVisit(Base):
    """An engineer on site for a task: checked in, then checked out, when its on-site time entry is written.

    The position of each end is kept only when the person's browser gave it (they allowed it).
    """

    __tablename__ = "site_visit"
    #: One open visit per engineer and task (a second check-in loses the race); a task's visits are read by task.
    __table_args__ = (
        Index("ix_site_visit_task", "task_id", "engineer"),
        Index(
            "ux_site_visit_open",
            "task_id",
            "engineer",
            unique=True,
            postgresql_where=_OPEN_VISIT,
            sqlite_where=_OPEN_VISIT,
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    engineer: Mapped[str] = mapped_column(String(80))
    checked_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_out_at: Mapped[datetime | None] = mapped_column(default=None)
    in_lat: Mapped[float | None] = mapped_column(default=None)
    in_lon: Mapped[float | None] = mapped_column(default=None)
    out_lat: Mapped[float | None] = mapped_column(default=None)
    out_lon: Mapped[float | None] = mapped_column(default=None)
    time_entry_id: Mapped[int | None] = mapped_column(ForeignKey("time_entry.id", ondelete="SET NULL"), default=None)
    time_entry: Mapped[TimeEntry | None] = relationship(lazy="joined")
