"""Keeping a ticket's clocks: its timeline of segments (`service.sla.timeline`), its service level, and the due
warnings and breaches.

Called from the projection after every step of a ticket's instance (`on_ticket_changed`) and after a person claims or
completes a task (`on_task_event`). Everything is derived from the ticket's history (its segments and the claims and
completions of reaction tasks), so a changed severity, route or contract gives the deadlines that history implies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.rows import insert_rows, upsert_rows, write_changes
from service.sla.calendars import Calendar, aware
from service.sla.clocks import ClockFigures, ClockInput, Interval, evaluate
from service.sla.levels import Level, find_service_level
from service.sla.models import (
    BREACH,
    CLOCKS,
    PENDING,
    REACTION,
    RESOLUTION,
    WARNING,
    Segment,
    SlaClock,
    SlaEvent,
)
from service.sla.timeline import Timeline, extend_timeline, pause_of, timeline, timeline_and_clocks
from service.tasks.models import TaskCandidate, UserTask
from service.tickets.facts import contract_for
from service.tickets.models import HistoryEvent, Ticket

PER_CALL = "per_call"
#: Statuses that stop the resolution clock; a declined ticket's clocks are cancelled.
SOLVED, DECLINED = "closed", "declined"
ENGINEERING_GROUP = re.compile(r"^(?P<team>.+)-L(?P<level>\d+)$")


@dataclass(frozen=True)
class TicketClocks:
    """A ticket's service level and its clocks at a moment."""

    service_level: Level
    severity: str
    calendar: Calendar
    figures: dict[str, ClockFigures]
    segments: list[Segment]


# ---- hooks -----------------------------------------------------------------------------------------------------


def on_ticket_changed(
    session: Session,
    ticket: Ticket,
    *,
    now: datetime,
    variables: Mapping[str, Any] | None = None,
    new: bool = False,
    pause: str = "",
    touched: datetime | None = None,
    timeline_read: Timeline | None = None,
) -> None:
    """After a step of the ticket's instance: extend its timeline and recompute its clocks if anything they depend on
    changed (status, team, level, paid, pause, severity, service level). A `new` ticket starts its timeline and
    clocks without reading anything. `pause` is why the clocks pause now (`client`, `parts`, or "" for none), from
    the diagram's open tasks. `touched` is when an engineering team completed a task in this step: the reaction,
    if it is their first, in the same refresh (`on_task_event` is then not needed). `timeline_read`: the segments and
    clocks the caller read under the instance lock (`timeline_of`), which are then not read again."""
    status = _effective_status(ticket, variables or {})
    pause = "" if status in (SOLVED, DECLINED) else pause
    if new:
        first = {
            "ticket_id": ticket.id,
            "started_at": aware(ticket.created_at),
            "status": status,
            "team": ticket.team,
            "level": ticket.level,
            "paid": bool(ticket.paid),
            "pause": pause,
        }
        insert_rows(session, Segment, [first])
        refresh_ticket(session, ticket, now=now, segments=[Segment(**first)], new=True)
        return
    read, clocks = timeline_read or timeline_and_clocks(session, ticket)
    segment_changed, segments = extend_timeline(session, ticket, read, status=status, pause=pause, now=now)
    name = service_level_name(ticket)
    stale = not clocks or any(c.service_level != name or c.severity != ticket.severity for c in clocks)
    reaction = next((c for c in clocks if c.kind == REACTION), None)
    running = reaction is not None and reaction.stopped_at is None and reaction.state != "cancelled"
    if segment_changed or stale or (touched is not None and running):
        # Every claim or completion by a team recomputes the clocks (`on_task_event`): a reaction clock still running
        # under the same service level means no team has touched the ticket since, and its history need not be read.
        unanswered = running and reaction is not None and reaction.service_level == name
        refresh_ticket(
            session, ticket, now=now, segments=segments, clocks=clocks, unanswered=unanswered, touched=touched
        )


def on_task_event(session: Session, ticket: Ticket, *, task: UserTask, now: datetime) -> None:
    """After a person claimed or completed a task: the first touch of a reaction task stops the reaction clock.

    Once the reaction clock has stopped, a touch changes nothing the clocks depend on: nothing is recomputed."""
    if not reacts(task.sla, task.candidate_groups):
        return
    query = select(SlaClock.stopped_at).where(SlaClock.ticket_id == ticket.id, SlaClock.kind == REACTION)
    if session.scalar(query) is None:
        refresh_ticket(session, ticket, now=now)


def _effective_status(ticket: Ticket, variables: Mapping[str, Any]) -> str:
    """The ticket's status, or the end the diagram already decided (`status` closed or declined) while the last
    automatic steps (the closing e-mail) still run: the ticket is solved when the engineer solved it."""
    decided = variables.get("status")
    return str(decided) if decided in (SOLVED, DECLINED) else ticket.status


# ---- service level -------------------------------------------------------------------------------------------


def service_level_name(ticket: Ticket) -> str:
    """The service level the ticket is under: `per_call` on the per-call route, else its contract's.

    Before entitlement has decided, the contract entitlement picks (`contract_for`) is assumed when it is active, in
    force, covers the equipment (its class or the item) and names a level; the decision, when it comes, recomputes
    the clocks from the ticket's start.
    """
    if ticket.route == PER_CALL:
        return PER_CALL
    created = aware(ticket.created_at).date()
    contract = contract_for(list(ticket.client.contracts), created, ticket.equipment)
    if ticket.route == "contract":
        return contract.service_level if contract is not None and contract.service_level else ""
    entitled = (
        contract is not None
        and contract.entitles(created)
        and bool(contract.service_level)
        and contract.covers_equipment(ticket.equipment)
    )
    return contract.service_level if entitled and contract is not None else PER_CALL


# ---- clocks ---------------------------------------------------------------------------------------------------


def engineering_group(groups: list[str]) -> tuple[str, int] | None:
    """The team and level of an engineering queue (`storage-L2`) among candidate groups."""
    for group in groups:
        match = ENGINEERING_GROUP.match(group)
        if match:
            return match["team"], int(match["level"])
    return None


def reacts(sla: str | None, groups: list[str]) -> bool:
    """Whether a person's first touch of a task is the ticket's reaction: its `sla` property says so (`reaction`), and
    for a task that declares none (or one written before the property was kept), an engineering queue among its
    groups does."""
    return sla == "reaction" if sla else engineering_group(sorted(groups)) is not None


def first_response(session: Session, ticket: Ticket) -> datetime | None:
    """When a person first claimed or completed one of the ticket's reaction tasks (`reacts`)."""
    query = select(HistoryEvent).where(
        HistoryEvent.ticket_id == ticket.id, HistoryEvent.kind.in_(("task_claimed", "task_completed"))
    )
    events = list(session.scalars(query.order_by(HistoryEvent.id)))
    ids = {str((event.detail or {}).get("task_id")) for event in events}
    if not ids:
        return None
    tasks: dict[str, tuple[str | None, list[str]]] = {}
    rows = select(UserTask.id, UserTask.sla, TaskCandidate.group_name).outerjoin(
        TaskCandidate, TaskCandidate.task_id == UserTask.id
    )
    for task_id, sla, group in session.execute(rows.where(UserTask.id.in_(ids))):
        tasks.setdefault(task_id, (sla, []))[1].extend([group] if group is not None else [])
    for event in events:
        found = tasks.get(str((event.detail or {}).get("task_id")))
        if found is not None and reacts(*found):
            return aware(event.at)
    return None


def pauses_for(level: Level, segments: list[Segment], *, created: datetime) -> list[tuple[str, Interval]]:
    """The pause intervals, with their reasons, that the service level applies to this timeline."""
    result: list[tuple[str, Interval]] = []
    for segment in segments:
        reason = pause_of(segment)
        if reason not in ("client", "parts") or (reason == "parts" and not level.pause_for_parts):
            continue
        end = aware(segment.ended_at) if segment.ended_at is not None else None
        result.append((reason, (aware(segment.started_at), end)))
    if level.start_on == "paid":
        paid_at = next((aware(s.started_at) for s in segments if s.paid), None)
        result.insert(0, ("unpaid", (created, paid_at)))
    return result


def compute_clocks(
    session: Session,
    ticket: Ticket,
    *,
    now: datetime,
    responded: datetime | None = None,
    segments: list[Segment] | None = None,
    new: bool = False,
    unanswered: bool = False,
) -> TicketClocks | None:
    """The ticket's clocks at `now`, from its history; None when no service level applies.

    A `new` ticket has no response yet, and its `segments` are given: nothing needs reading. An `unanswered` one is
    known to have no response yet.
    """
    level = find_service_level(session, service_level_name(ticket))
    target = level.target_for(ticket.severity) if level is not None else None
    if level is None or target is None:
        return None
    calendar = level.calendar
    if segments is None:
        segments = timeline(session, ticket)
    created = aware(ticket.created_at)
    pauses = tuple(interval for _, interval in pauses_for(level, segments, created=created))
    ending = next((s for s in segments if s.status in (SOLVED, DECLINED)), None)
    stop = aware(ending.started_at) if ending is not None else None
    cancelled = ending is not None and ending.status == DECLINED
    if responded is None and not (new or unanswered):
        responded = first_response(session, ticket)
    reaction_stop = min((m for m in (responded, stop) if m is not None), default=None)
    ratio = level.warn_percent / 100
    inputs = {
        REACTION: ClockInput(created, timedelta(minutes=target.reaction_minutes), pauses, reaction_stop, ratio),
        RESOLUTION: ClockInput(created, timedelta(minutes=target.resolution_minutes), pauses, stop, ratio),
    }
    figures = {
        kind: evaluate(calendar, _cancel(clock) if cancelled else clock, now=now) for kind, clock in inputs.items()
    }
    return TicketClocks(level, ticket.severity, calendar, figures, segments)


def _cancel(clock: ClockInput) -> ClockInput:
    return ClockInput(clock.start, clock.target, clock.pauses, clock.stop, clock.warn_ratio, cancelled=True)


def refresh_ticket(
    session: Session,
    ticket: Ticket,
    *,
    now: datetime,
    segments: list[Segment] | None = None,
    clocks: list[SlaClock] | None = None,
    new: bool = False,
    unanswered: bool = False,
    touched: datetime | None = None,
) -> TicketClocks | None:
    """Recompute the ticket's clocks from its history, store them, and reschedule their warnings and breaches.

    The caller may give the ticket's timeline (`segments`) and stored `clocks` it has just read; a `new` ticket's
    `segments` are all there is to read: it has no clocks, events or response yet; an `unanswered` one has had no
    team touch it yet; `touched`: an engineering team's touch not yet in the history, the response when the history
    holds none earlier.
    """
    rows: dict[str, SlaClock] = {}
    responded = None
    if not new:
        session.flush()
        if clocks is None:
            clocks = list(session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id)))
        rows = {c.kind: c for c in clocks}
        reaction = rows.get(REACTION)
        if reaction is not None and reaction.stopped_at is not None and reaction.state != "cancelled":
            responded = aware(reaction.stopped_at)
        if responded is None and touched is not None:  # this touch, unless the history holds an earlier one
            responded = (None if unanswered else first_response(session, ticket)) or touched
    figured = compute_clocks(
        session, ticket, now=now, responded=responded, segments=segments, new=new, unanswered=unanswered
    )
    if figured is None:
        for row in rows.values():
            session.delete(row)
        if not new:  # nothing is due any more
            pending = (SlaEvent.ticket_id == ticket.id) & (SlaEvent.status == PENDING)
            session.execute(update(SlaEvent).where(pending).values(due_at=None))
        return None
    dues = {kind: _event_dues(figured.figures[kind]) for kind in CLOCKS}
    # The due warnings and breaches follow the clocks: while every stored clock's moments stay, they stay too.
    unchanged = all(kind in rows and _stored_dues(rows[kind]) == dues[kind] for kind in CLOCKS)
    new_clocks: list[dict[str, Any]] = []
    for kind in CLOCKS:
        figures = figured.figures[kind]
        values = _clock_values(ticket, figured, figures, now)
        stored = rows.get(kind)
        if stored is None:
            new_clocks.append({"ticket_id": ticket.id, "kind": kind, **values})
        elif any(getattr(stored, name) != value for name, value in values.items() if name != "updated_at"):
            for name, value in values.items():  # `updated_at`: when its figures last changed
                setattr(stored, name, value)
    write_changes(session, *rows.values())
    insert_rows(session, SlaClock, new_clocks)
    if not unchanged:
        schedule = [
            {"ticket_id": ticket.id, "clock": kind, "kind": event_kind, "status": PENDING, "due_at": due_at}
            for kind in CLOCKS
            for event_kind, due_at in dues[kind].items()
        ]
        if new:
            insert_rows(session, SlaEvent, schedule)
        else:
            # A pending one takes its new moment, one that has fired stays as it fired, a missing one is added.
            upsert_rows(
                session,
                SlaEvent,
                [{**row, "mail_attempts": 0, "detail": {}} for row in schedule],
                update=("due_at",),
                on=("ticket_id", "clock", "kind"),
                where=f"sla_event.status = '{PENDING}'",
            )
    return figured


def _event_dues(figures: ClockFigures) -> dict[str, datetime | None]:
    """When a clock's warning and breach fall due, in UTC (None for a clock that is not running)."""
    return _dues(figures.stopped_at, figures.state, warn_at=figures.warn_at, due_at=figures.due_at)


def _stored_dues(clock: SlaClock) -> dict[str, datetime | None]:
    """The warning and breach moments the stored clock gave its events when it was last stored."""
    return _dues(clock.stopped_at, clock.state, warn_at=clock.warn_at, due_at=clock.due_at)


def _dues(
    stopped_at: datetime | None, state: str, *, warn_at: datetime | None, due_at: datetime | None
) -> dict[str, datetime | None]:
    running = stopped_at is None and state in ("running", "breached")
    return {WARNING: _utc(warn_at) if running else None, BREACH: _utc(due_at) if running else None}


def _clock_values(ticket: Ticket, clocks: TicketClocks, figures: ClockFigures, now: datetime) -> dict[str, Any]:
    return {
        "client_id": ticket.client_id,
        "team": ticket.team,
        "service_level": clocks.service_level.name,
        "severity": clocks.severity,
        "calendar_id": clocks.service_level.calendar_id,
        "target_seconds": int(figures.target.total_seconds()),
        "started_at": figures.started_at.astimezone(timezone.utc),
        "stopped_at": _utc(figures.stopped_at),
        "state": figures.state,
        "due_at": _utc(figures.due_at),
        "warn_at": _utc(figures.warn_at),
        "breached_at": _utc(figures.breached_at),
        "elapsed_seconds": int(figures.elapsed.total_seconds()),
        "paused_seconds": int(figures.paused.total_seconds()),
        "updated_at": aware(now).astimezone(timezone.utc),
    }


def _utc(moment: datetime | None) -> datetime | None:
    """UTC for storage: SQLite keeps the wall time only, so every stored instant is in UTC."""
    return aware(moment).astimezone(timezone.utc) if moment is not None else None
