"""A ticket's SLA timeline: its segments (stretches of one status, team, level, paid and pause), read, extended
when a step changes one of those, and rebuilt from the history for tickets older than the timeline."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, TextClause, and_, bindparam, func, select, text
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from service.db import is_postgres
from service.sla.calendars import aware
from service.sla.models import Segment, SlaClock
from service.tickets.models import HistoryEvent, Ticket

#: Statuses in which the ticket waits for the client: every clock pauses.
CLIENT_WAIT = frozenset({"estimating", "awaiting_payment", "waiting_client"})
#: Statuses in which the ticket waits for parts: clocks pause where the service level says so.
PARTS_WAIT = frozenset({"ordering_parts", "waiting_parts"})


def _key(segment: Segment) -> tuple[Any, ...]:
    return segment.status, segment.team, segment.level, bool(segment.paid), pause_of(segment)


def pause_of(segment: Segment) -> str:
    """Why the clocks pause in a segment: its `pause`, or for segments older than that column, its status's."""
    if segment.pause is not None:
        return segment.pause
    return "client" if segment.status in CLIENT_WAIT else "parts" if segment.status in PARTS_WAIT else ""


#: A ticket's segments, oldest first, and its stored clocks.
Timeline = tuple[list[Segment], list[SlaClock]]


def clocks_beside_latest_segment() -> ColumnElement[bool]:
    """How a ticket's clocks join its segments (`Segment`) in a read of its timeline: beside its latest segment
    alone, so that each clock comes once and the rows grow by one a segment, not by one a segment and clock."""
    other = aliased(Segment)
    latest = select(func.max(other.id)).where(other.ticket_id == Segment.ticket_id).correlate(Segment)
    return and_(SlaClock.ticket_id == Segment.ticket_id, Segment.id == latest.scalar_subquery())


def timeline_and_clocks(session: Session, ticket: Ticket) -> Timeline:
    """The ticket's segments, oldest first, and its stored clocks: one query (its clocks beside its latest segment)."""
    query = select(Segment, SlaClock).outerjoin(SlaClock, clocks_beside_latest_segment())
    found = timeline_of(session.execute(query.where(Segment.ticket_id == ticket.id)).tuples())
    if found is None:  # a ticket older than the timeline: its clocks alone
        return [], list(session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id)))
    return found


def timeline_of(pairs: Iterable[tuple[Segment | None, SlaClock | None]]) -> Timeline | None:
    """The timeline in rows that give each segment of a ticket and each of its clocks beside one of them (`Segment`
    outer joined to `SlaClock` by `clocks_beside_latest_segment`, in any order, rows of neither among them); None
    when they hold no segment."""
    segments: dict[int, Segment] = {}
    clocks: dict[int, SlaClock] = {}
    for segment, clock in pairs:
        if segment is not None:
            segments.setdefault(segment.id, segment)
        if clock is not None:
            clocks.setdefault(clock.id, clock)
    if not segments:
        return None
    return sorted(segments.values(), key=lambda segment: (aware(segment.started_at), segment.id)), list(clocks.values())


def extend_timeline(
    session: Session, ticket: Ticket, segments: list[Segment], *, status: str, pause: str, now: datetime
) -> tuple[bool, list[Segment] | None]:
    """Close the open segment of the timeline (`segments`, as read) and open a new one when status, team, level,
    paid or pause changed; True when it did, and the timeline as it then is (None when it was rebuilt from the
    history: read it again)."""
    current = next((segment for segment in reversed(segments) if segment.ended_at is None), None)
    built = current is None
    if current is None:
        rebuilt = _segments_from_history(session, ticket)
        session.add_all(rebuilt)
        current = rebuilt[-1]
    key = (status, ticket.team, ticket.level, bool(ticket.paid), pause)
    if _key(current) == key:
        return built, None if built else segments
    moment = max(aware(now), aware(current.started_at))
    added = Segment(
        ticket_id=ticket.id,
        started_at=moment,
        status=status,
        team=ticket.team,
        level=ticket.level,
        paid=bool(ticket.paid),
        pause=pause,
    )
    if built:
        current.ended_at = moment
        session.add(added)
        return True, None
    _close_and_open(session, current, added)
    return True, sorted([*segments, added], key=lambda segment: aware(segment.started_at))


def _close_and_open(session: Session, current: Segment, added: Segment) -> None:
    """End the stored open segment where the `added` one starts and insert that one, in one statement: the open
    segment is inserted again with its end, which, its id being taken, ends it (`ON CONFLICT (id) DO UPDATE`).
    `added` stays out of the session: the clocks read it, nothing changes it."""
    values = {f"ended_{column.name}": getattr(current, column.key) for column in Segment.__table__.columns}
    values |= {f"opened_{column.name}": getattr(added, column.key) for column in Segment.__table__.columns}
    session.execute(_segment_closing(is_postgres(session)), values | {"ended_ended_at": added.started_at})
    set_committed_value(current, "ended_at", added.started_at)


@cache
def _segment_closing(postgres: bool) -> TextClause:
    """The statement of `_close_and_open`, built once per dialect: the stored segment as `ended_*`, the new one as
    `opened_*` parameters, in the columns' types. Written out, as SQLAlchemy compiles a multi-row or an `ON CONFLICT`
    insert anew at each call. The new segment's id comes from the column's sequence on PostgreSQL; SQLite gives a
    NULL integer key the next one."""
    columns = list(Segment.__table__.columns)
    opened = [column for column in columns if not (postgres and column.name == "id")]
    row = ", ".join("DEFAULT" if postgres and column.name == "id" else f":opened_{column.name}" for column in columns)
    sql = (
        f"INSERT INTO sla_segment ({', '.join(column.name for column in columns)}) "
        f"VALUES ({', '.join(f':ended_{column.name}' for column in columns)}), ({row}) "
        "ON CONFLICT (id) DO UPDATE SET ended_at = excluded.ended_at"
    )
    return text(sql).bindparams(
        *(bindparam(f"ended_{column.name}", type_=column.type) for column in columns),
        *(bindparam(f"opened_{column.name}", type_=column.type) for column in opened),
    )


def _segments_from_history(session: Session, ticket: Ticket) -> list[Segment]:
    """The timeline rebuilt from the `status_changed` history (for tickets older than the SLA tables); a paid
    ticket counts as paid from when it left the wait for payment."""
    query = select(HistoryEvent).where(HistoryEvent.ticket_id == ticket.id, HistoryEvent.kind == "status_changed")
    segments = [Segment(ticket_id=ticket.id, started_at=aware(ticket.created_at), status="new", paid=False)]
    for event in session.scalars(query.order_by(HistoryEvent.id)):
        detail = event.detail or {}
        at = max(aware(event.at), segments[-1].started_at)
        status = str(detail.get("new") or "new")
        paid = segments[-1].paid or (bool(ticket.paid) and detail.get("old") == "awaiting_payment")
        segments[-1].ended_at = at
        segments.append(
            Segment(
                ticket_id=ticket.id,
                started_at=at,
                status=status,
                team=detail.get("team"),
                level=detail.get("level"),
                paid=paid,
            )
        )
    return segments


def timeline(session: Session, ticket: Ticket) -> list[Segment]:
    """The ticket's segments, oldest first."""
    query = select(Segment).where(Segment.ticket_id == ticket.id).order_by(Segment.started_at, Segment.id)
    return list(session.scalars(query))
