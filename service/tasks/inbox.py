"""The inbox: a page of the open tasks in the caller's queues, read by one indexed query of selected columns.

Paging is by keyset, never by offset: a page starts after the (sort key, id) of the last task of the previous page,
so a task opened or completed between two pages neither shifts the others nor makes one appear twice. The sort keys
of a task (its creation and due time, its ticket's severity) never change once it is written, which is what keeps
the keyset exact. By severity the key is (severity rank, creation time, id): the most severe first, oldest first
within a severity.

The SLA order is by the due time of the ticket's running resolution clock as it stands when a page is read. That
time moves when the clock pauses (the ticket waits for the client or for parts) and resumes, so a task whose clock
paused or resumed between two pages is placed by its new deadline: it may then be seen twice or not at all. Every
task whose clock did not move is seen exactly once.

Tasks without a due time (or without a running clock) come after those with one when sorting by due time (or SLA);
they are read in a second phase of the same page, ordered by id, and the cursor says which phase it stands in (its
key is null in the second).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.auth.models import Caller
from service.auth.permissions import Permission, allowed
from service.clients.models import Client
from service.db import UtcDateTime, utcnow
from service.errors import Invalid
from service.sla import reviews
from service.sla.models import BREACHED, RESOLUTION, RUNNING, BreachReview, SlaClock
from service.tasks.models import OPEN, TaskCandidate, TaskCandidateUser, UserTask
from service.tasks.reviews import PREFIX as REVIEW_PREFIX
from service.tickets.models import Ticket
from service.tickets.schemas import SEVERITIES

_ID = re.compile(r"[A-Za-z0-9_.:-]{1,80}")


class TaskSort(str, Enum):
    """The orders of the inbox: by creation (oldest first), by due time (soonest first, undated last), by severity
    (most severe first, oldest first within one) or by SLA time left (least first, tickets without a running
    resolution clock last)."""

    CREATED = "created"
    DUE = "due"
    SEVERITY = "severity"
    SLA = "sla"


#: The column each order pages by (severity pages by its rank, then by creation time).
SORT_KEYS = {
    TaskSort.CREATED: "created_at",
    TaskSort.DUE: "due_at",
    TaskSort.SEVERITY: "severity",
    TaskSort.SLA: "sla_due_at",
}
#: The orders whose key may be missing: those tasks come last, in a second phase ordered by id.
WITH_TAIL = (TaskSort.DUE, TaskSort.SLA)


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after the task with this sort key and id (by severity: this rank, time and id)."""

    sort: TaskSort
    key: datetime | None
    id: str
    rank: int | None = None

    def encode(self) -> str:
        """The opaque form given to the client."""
        body: dict[str, Any] = {"s": self.sort.value, "k": self.key.isoformat() if self.key else None, "i": self.id}
        if self.sort is TaskSort.SEVERITY:
            body["r"] = self.rank
        return base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor a client sent back; ValueError for anything this service did not write."""
        try:
            body = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
        except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError("not a cursor of this list") from error
        if not isinstance(body, dict) or set(body) - {"r"} != {"s", "k", "i"}:
            raise ValueError("not a cursor of this list")
        sort, key, task_id, rank = body["s"], body["k"], body["i"], body.get("r")
        if ("r" in body) != (sort == TaskSort.SEVERITY.value):
            raise ValueError("not a cursor of this list")
        if "r" in body and (type(rank) is not int or not 0 <= rank < len(SEVERITIES)):
            raise ValueError("not a cursor of this list")
        if sort not in {s.value for s in TaskSort} or not isinstance(task_id, str) or not _ID.fullmatch(task_id):
            raise ValueError("not a cursor of this list")
        moment = None
        if key is not None:
            if not isinstance(key, str):
                raise ValueError("not a cursor of this list")
            moment = datetime.fromisoformat(key)  # ValueError when it is not a time
            if moment.tzinfo is None:
                raise ValueError("not a cursor of this list")
            moment = moment.astimezone(timezone.utc)
        elif TaskSort(sort) not in WITH_TAIL:
            raise ValueError("not a cursor of this list")
        return cls(TaskSort(sort), moment, task_id, rank)


@dataclass(frozen=True)
class TaskFilter:
    """What the caller narrows the inbox to."""

    queue: str | None = None
    ticket: str | None = None
    name: str | None = None
    severity: str | None = None
    due_before: datetime | None = None
    #: The ticket's status, team and client (by code).
    status: str | None = None
    team: str | None = None
    client: str | None = None
    #: Hours: only tasks of tickets with a running clock due within them (or overdue), or a breached clock.
    breach_soon: int | None = None


FILTERS = ("queue", "ticket", "name", "severity", "due_before", "status", "team", "client", "breach_soon")


@dataclass(frozen=True)
class TaskPage:
    """One page of the inbox and the cursor of the next (None on the last)."""

    items: list[dict[str, Any]]
    next: str | None


@dataclass(frozen=True)
class _Shape:
    """What decides the form of an inbox query (its values are bound parameters): which filters are given, whether
    the caller works every queue or some, whether breach reviews join, the phase's sort key (None: the tail of the
    tasks whose `tail` column is null), and a cursor."""

    filters: frozenset[str]
    all_queues: bool
    reviews: bool
    key: str | None
    after: bool
    tail: str = "due_at"


def _candidate(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(TaskCandidate.task_id == UserTask.id, condition)


def _task_rows(shape: _Shape) -> list[Select[Any]]:
    """The open tasks the user may see, as one query, or three for someone who works only some queues: those of
    their groups (a semi-join walking the ordered index, probing the candidates' key), those assigned to them
    outside their groups, and those naming them among their candidate users (the person's few rows of that index,
    joined to the tasks by key) neither of their groups nor assigned to them. One query with an OR would be planned
    as a hash of every candidate row of the groups."""
    groups = (
        select(func.aggregate_strings(TaskCandidate.group_name, ","))
        .where(TaskCandidate.task_id == UserTask.id)
        .scalar_subquery()
    )
    sla_due = (
        select(SlaClock.due_at)
        .where(SlaClock.ticket_id == UserTask.ticket_id, SlaClock.kind == RESOLUTION, SlaClock.state == RUNNING)
        .scalar_subquery()
    )
    query = (
        select(
            UserTask.id.label("id"),
            UserTask.name.label("name"),
            UserTask.title.label("title"),
            groups.label("groups"),
            UserTask.assignee.label("assignee"),
            UserTask.claimed_by.label("claimed_by"),
            UserTask.priority.label("priority"),
            UserTask.due_at.label("due_at"),
            UserTask.created_at.label("created_at"),
            Ticket.number.label("ticket"),
            Ticket.summary.label("ticket_summary"),
            Ticket.severity.label("severity"),
            sla_due.label("sla_due_at"),
        )
        .join(Ticket, Ticket.id == UserTask.ticket_id)
        .where(UserTask.state == OPEN)
    )
    if "queue" in shape.filters:
        query = query.where(_candidate(TaskCandidate.group_name == bindparam("queue")))
    if "name" in shape.filters:
        query = query.where(UserTask.name == bindparam("name"))
    if "due_before" in shape.filters:
        query = query.where(UserTask.due_at < bindparam("due_before", type_=UtcDateTime()))
    query = _ticket_filters(query, shape)
    if shape.all_queues:
        return [query]
    mine = _candidate(TaskCandidate.group_name.in_(bindparam("groups", expanding=True)))
    assigned = UserTask.assignee == bindparam("username")
    people = select(TaskCandidateUser.task_id).where(TaskCandidateUser.username == bindparam("username"))
    named = UserTask.id.in_(people)
    not_assigned = UserTask.assignee.is_(None) | ~assigned
    return [query.where(mine), query.where(assigned, ~mine), query.where(named, ~mine, not_assigned)]


def _review_rows(shape: _Shape) -> Select[Any]:
    """The open breach reviews in the same columns."""
    sla_due = cast(null(), UtcDateTime())
    query = (
        select(
            (literal(REVIEW_PREFIX) + cast(BreachReview.id, String)).label("id"),
            literal(reviews.NAME).label("name"),
            (
                literal("Why was the ")
                + BreachReview.clock
                + literal(" deadline of ")
                + Ticket.number
                + literal(" missed?")
            ).label("title"),
            literal(reviews.GROUP).label("groups"),
            cast(null(), String).label("assignee"),
            BreachReview.claimed_by.label("claimed_by"),
            cast(null(), Integer).label("priority"),
            cast(null(), UtcDateTime()).label("due_at"),
            BreachReview.created_at.label("created_at"),
            Ticket.number.label("ticket"),
            Ticket.summary.label("ticket_summary"),
            Ticket.severity.label("severity"),
            sla_due.label("sla_due_at"),
        )
        .join(Ticket, Ticket.id == BreachReview.ticket_id)
        .where(BreachReview.state == reviews.OPEN)
    )
    return _ticket_filters(query, shape)


def _with_reviews(user: Caller, where: TaskFilter) -> bool:
    """Whether the open breach reviews can match: for those who review, unless a filter rules them out."""
    if not reviews.may_review(user) or where.due_before or where.queue not in (None, reviews.GROUP):
        return False
    return where.name in (None, reviews.NAME)


def _ticket_filters(query: Select[Any], shape: _Shape) -> Select[Any]:
    if "ticket" in shape.filters:
        query = query.where(Ticket.number == bindparam("ticket"))
    if "severity" in shape.filters:
        query = query.where(Ticket.severity == bindparam("severity"))
    if "status" in shape.filters:
        query = query.where(Ticket.status == bindparam("status"))
    if "team" in shape.filters:
        query = query.where(Ticket.team == bindparam("team"))
    if "client" in shape.filters:
        client = select(Client.id).where(Client.code == bindparam("client")).scalar_subquery()
        query = query.where(Ticket.client_id == client)
    if "breach_soon" in shape.filters:
        soon = (SlaClock.state == RUNNING) & (SlaClock.due_at < bindparam("breach_soon", type_=UtcDateTime()))
        query = query.where(exists().where(SlaClock.ticket_id == Ticket.id, soon | (SlaClock.state == BREACHED)))
    return query


def _severity_rank(severity: ColumnElement[Any]) -> ColumnElement[int]:
    """0 for the most severe, upwards."""
    return case({name: rank for rank, name in enumerate(SEVERITIES)}, value=severity, else_=len(SEVERITIES))


@functools.lru_cache(maxsize=512)
def _statement(shape: _Shape) -> Select[Any]:
    """The query of one phase of a page, built once per shape: SQLAlchemy keeps a statement's cache key with the
    statement, so a statement used again skips the walk of its whole tree that a freshly built one costs."""
    branches = _task_rows(shape)
    if shape.reviews:
        branches.append(_review_rows(shape))
    limit = bindparam("limit", type_=Integer())
    parts = []
    for part in branches:
        # the branch's own expressions (not a subquery of it): building a subquery's columns costs more than the query
        columns = {column.key: getattr(column, "element", column) for column in part.selected_columns}
        id_col: ColumnElement[Any] = columns["id"]
        if shape.key is None:
            part = part.where(columns[shape.tail].is_(None))
            order: list[ColumnElement[Any]] = [id_col]
            if shape.after:
                part = part.where(id_col > bindparam("after_id", type_=String()))
        elif shape.key == "severity":
            rank = _severity_rank(columns["severity"])
            part = part.add_columns(rank.label("severity_rank"))
            order = [rank, columns["created_at"], id_col]
            if shape.after:
                start = tuple_(
                    bindparam("after_rank", type_=Integer()),
                    bindparam("after_key", type_=UtcDateTime()),
                    bindparam("after_id", type_=String()),
                )
                part = part.where(tuple_(*order) > start)
        else:
            key_col = columns[shape.key]
            part = part.where(key_col.is_not(None))
            order = [key_col, id_col]
            if shape.after:
                start = tuple_(bindparam("after_key", type_=UtcDateTime()), bindparam("after_id", type_=String()))
                part = part.where(tuple_(key_col, id_col) > start)
        parts.append(part.order_by(*order).limit(limit))
    if len(parts) == 1:
        return parts[0]
    merged = union_all(*[select(*p.subquery().c) for p in parts]).subquery()
    if shape.key is None:
        order_cols = [merged.c.id]
    elif shape.key == "severity":
        order_cols = [merged.c.severity_rank, merged.c.created_at, merged.c.id]
    else:
        order_cols = [merged.c[shape.key], merged.c.id]
    return select(*merged.c).order_by(*order_cols).limit(limit)


def _phase(
    session: Session,
    user: Caller,
    where: TaskFilter,
    *,
    key: str | None,
    after: Cursor | None,
    limit: int,
    tail: str = "due_at",
) -> list[Any]:
    """Up to `limit` rows of the user's tasks in (key, id) order after the cursor; key None reads the tail of the
    tasks whose `tail` column is null."""
    filters = frozenset(name for name in FILTERS if getattr(where, name))
    all_queues = allowed(user, Permission.WORK_ALL_QUEUES)
    shape = _Shape(filters, all_queues, _with_reviews(user, where), key, after is not None, tail)
    params: dict[str, Any] = {name: getattr(where, name) for name in filters}
    if where.breach_soon:
        params["breach_soon"] = utcnow() + timedelta(hours=where.breach_soon)
    params["limit"] = limit
    if not all_queues:
        params["groups"], params["username"] = sorted(user.group_names), user.username
    if after is not None:
        params["after_id"] = after.id
        if key is not None:
            params["after_key"] = after.key
        if key == "severity":
            params["after_rank"] = after.rank
    return list(session.execute(_statement(shape), params))


def list_page(
    session: Session,
    *,
    user: Caller,
    where: TaskFilter,
    sort: TaskSort = TaskSort.CREATED,
    page_size: int = 50,
    after: Cursor | None = None,
) -> TaskPage:
    """One page of the open tasks in the user's queues (breach reviews included for those who review them)."""
    if after is not None and after.sort != sort:
        raise Invalid("the cursor belongs to another order", errors={"cursor": [f"made for sort={after.sort.value}"]})
    want = page_size + 1
    column = SORT_KEYS[sort]
    if sort not in WITH_TAIL:
        rows = _phase(session, user, where, key=column, after=after, limit=want)
    else:
        rows = []
        if after is None or after.key is not None:
            rows = _phase(session, user, where, key=column, after=after, limit=want)
        if len(rows) < want:
            tail_after = after if after is not None and after.key is None else None
            rows += _phase(session, user, where, key=None, after=tail_after, limit=want - len(rows), tail=column)
    now = utcnow()
    items = [_item(row, now) for row in rows[:page_size]]
    if len(rows) <= page_size:
        return TaskPage(items, None)
    last = rows[page_size - 1]
    if sort is TaskSort.SEVERITY:
        return TaskPage(items, Cursor(sort, last.created_at, last.id, last.severity_rank).encode())
    return TaskPage(items, Cursor(sort, getattr(last, column), last.id).encode())


def _item(row: Any, now: datetime) -> dict[str, Any]:
    item = dict(row._mapping)
    item.pop("severity_rank", None)
    groups = item.pop("groups")
    item["candidate_groups"] = sorted(groups.split(",")) if groups else []
    sla_due = item["sla_due_at"]
    item["sla_seconds_left"] = int((sla_due - now).total_seconds()) if sla_due is not None else None
    return item


def queue_counts(session: Session, *, user: Caller) -> dict[str, int]:
    """The open tasks of each of the user's queues (of every queue for those who work them all), by queue name."""
    query = (
        select(TaskCandidate.group_name, func.count(UserTask.id))
        .join(UserTask, UserTask.id == TaskCandidate.task_id)
        .where(UserTask.state == OPEN)
        .group_by(TaskCandidate.group_name)
    )
    if not allowed(user, Permission.WORK_ALL_QUEUES):
        query = query.where(TaskCandidate.group_name.in_(sorted(user.group_names)))
    counts = {name: 0 for name in sorted(user.group_names)}
    counts.update({name: int(count) for name, count in session.execute(query)})
    return dict(sorted(counts.items()))
