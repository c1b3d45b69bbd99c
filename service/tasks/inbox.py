"""The inbox: a page of the open tasks in the caller's queues, read by one indexed query of selected columns.

Paging is by keyset, never by offset: a page starts after the (sort key, id) of the last task of the previous page,
so a task opened or completed between two pages neither shifts the others nor makes one appear twice. The sort keys
of a task (its creation and due time) never change once it is written, which is what keeps the keyset exact.

Tasks without a due time come after those with one when sorting by due time; they are read in a second phase of
the same page, ordered by id, and the cursor says which phase it stands in (its key is null in the second).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
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
from service.db import UtcDateTime, utcnow
from service.errors import Invalid
from service.sla import reviews
from service.sla.models import RESOLUTION, RUNNING, BreachReview, SlaClock
from service.tasks.models import OPEN, TaskCandidate, UserTask
from service.tasks.reviews import PREFIX as REVIEW_PREFIX
from service.tickets.models import Ticket

_ID = re.compile(r"[A-Za-z0-9_.:-]{1,80}")


class TaskSort(str, Enum):
    """The orders of the inbox: by creation (oldest first) or by due time (soonest first, undated last)."""

    CREATED = "created"
    DUE = "due"


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after the task with this sort key and id."""

    sort: TaskSort
    key: datetime | None
    id: str

    def encode(self) -> str:
        """The opaque form given to the client."""
        body = {"s": self.sort.value, "k": self.key.isoformat() if self.key else None, "i": self.id}
        return base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor a client sent back; ValueError for anything this service did not write."""
        try:
            body = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
        except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError("not a cursor of this list") from error
        if not isinstance(body, dict) or set(body) != {"s", "k", "i"}:
            raise ValueError("not a cursor of this list")
        sort, key, task_id = body["s"], body["k"], body["i"]
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
        elif sort == TaskSort.CREATED.value:
            raise ValueError("not a cursor of this list")
        return cls(TaskSort(sort), moment, task_id)


@dataclass(frozen=True)
class TaskFilter:
    """What the caller narrows the inbox to."""

    queue: str | None = None
    ticket: str | None = None
    name: str | None = None
    severity: str | None = None
    due_before: datetime | None = None


FILTERS = ("queue", "ticket", "name", "severity", "due_before")


@dataclass(frozen=True)
class TaskPage:
    """One page of the inbox and the cursor of the next (None on the last)."""

    items: list[dict[str, Any]]
    next: str | None


@dataclass(frozen=True)
class _Shape:
    """What decides the form of an inbox query (its values are bound parameters): which filters are given, whether
    the caller works every queue or some, whether breach reviews join, the phase's sort key, and a cursor."""

    filters: frozenset[str]
    all_queues: bool
    reviews: bool
    key: str | None
    after: bool


def _candidate(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(TaskCandidate.task_id == UserTask.id, condition)


def _task_rows(shape: _Shape) -> list[Select[Any]]:
    """The open tasks the user may see, as one query, or two for someone who works only some queues: those of
    their groups (a semi-join walking the ordered index, probing the candidates' key) and those assigned to them
    outside their groups. One query with an OR would be planned as a hash of every candidate row of the groups."""
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
    return [query.where(mine), query.where(UserTask.assignee == bindparam("username"), ~mine)]


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
    return query


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
            part = part.where(columns["due_at"].is_(None))
            order: list[ColumnElement[Any]] = [id_col]
            if shape.after:
                part = part.where(id_col > bindparam("after_id", type_=String()))
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
    order_cols = [merged.c.id] if shape.key is None else [merged.c[shape.key], merged.c.id]
    return select(*merged.c).order_by(*order_cols).limit(limit)


def _phase(
    session: Session, user: Caller, where: TaskFilter, *, key: str | None, after: Cursor | None, limit: int
) -> list[Any]:
    """Up to `limit` rows of the user's tasks in (key, id) order after the cursor; key None reads the undated tail."""
    filters = frozenset(name for name in FILTERS if getattr(where, name))
    all_queues = allowed(user, Permission.WORK_ALL_QUEUES)
    shape = _Shape(filters, all_queues, _with_reviews(user, where), key, after is not None)
    params: dict[str, Any] = {name: getattr(where, name) for name in filters}
    params["limit"] = limit
    if not all_queues:
        params["groups"], params["username"] = sorted(user.group_names), user.username
    if after is not None:
        params["after_id"] = after.id
        if key is not None:
            params["after_key"] = after.key
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
    if sort is TaskSort.CREATED:
        rows = _phase(session, user, where, key="created_at", after=after, limit=want)
    else:
        rows = []
        if after is None or after.key is not None:
            rows = _phase(session, user, where, key="due_at", after=after, limit=want)
        if len(rows) < want:
            tail_after = after if after is not None and after.key is None else None
            rows += _phase(session, user, where, key=None, after=tail_after, limit=want - len(rows))
    now = utcnow()
    items = [_item(row, now) for row in rows[:page_size]]
    if len(rows) <= page_size:
        return TaskPage(items, None)
    last = rows[page_size - 1]
    key = last.created_at if sort is TaskSort.CREATED else last.due_at
    return TaskPage(items, Cursor(sort, key, last.id).encode())


def _item(row: Any, now: datetime) -> dict[str, Any]:
    item = dict(row._mapping)
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
