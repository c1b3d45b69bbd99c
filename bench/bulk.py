"""A bulk loader of tickets at a real company's size (`python -m bench bulk --tickets 100000`, or `load()` from
another benchmark).

A few template tickets are made through the service itself (intake, the jobs, completions: the same projection code
as in production), one for each state: closed in several ways, and open with a user task in the `duty`,
`storage-L1`, `servers-L1`, `storage-L2` and `network-L1` queues. Each template is then replicated with all its rows
(ticket, instance document, tasks and their candidate groups, history, decisions, jobs, time entries, SLA timeline,
clocks and due events) under fresh ids: new integer ids, a new ticket number, and new task ids wherever the template's
appear (the instance document, the tasks, the jobs, the history). Rows go in by COPY on PostgreSQL and by
`executemany` on SQLite. Closed copies are moved back by whole weeks (so business calendars see the same hours and
their stored clocks stay what those hours give); open copies keep the template's times, so their clocks run and
their due events are due when the template's are.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import JSON, Table, func, select, text
from sqlalchemy.engine import Connection

from bench.common import label, prepared
from service.auth.models import Caller, User
from service.context import Context
from service.db import Base, transaction
from service.tasks.models import OPEN, UserTask
from service.tasks.services import complete_task
from service.tickets.models import Ticket
from service.tickets.services import open_ticket
from service.worker import drain

#: The tables a ticket's rows live in, parents first; a row of each is copied with the ticket.
TABLES = (
    "ticket",
    "process_instance",
    "user_task",
    "task_candidate",
    "history_event",
    "decision_record",
    "job",
    "time_entry",
    "sla_segment",
    "sla_clock",
    "sla_event",
)
#: Columns that name a copied row of another table: they take that row's new id.
PARENTS = {"ticket_id": "ticket", "instance_id": "process_instance"}
#: The tables whose rows of one ticket are many, each with an integer id of its own.
COUNTED = frozenset({"history_event", "decision_record", "job", "time_entry", "sla_segment", "sla_clock", "sla_event"})
TOKEN = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|SD-[0-9]{6,})")
CHUNK = 2000
WEEKS_BACK = 52
CLARIFY = {"description": "Controller B reports errors", "severity": "high", "category": "hardware"}
SOLVED = {"outcome": "solved", "hours": 1.5, "notes": "replaced the part"}
ESCALATE = {"outcome": "escalate"}


@dataclass(frozen=True)
class Recipe:
    """How a template ticket is made: its equipment, the completions (task, data, user) after intake, and the
    queue of the task it is left waiting on (None: it ends closed)."""

    name: str
    client: str
    serial: str
    steps: tuple[tuple[str, dict[str, Any], str], ...]
    queue: str | None


CLARIFIED = (("clarify", CLARIFY, "duty"),)
CLOSED = (
    Recipe("closed storage", "NORD-BANK", "IBM-FS5200-0001", (*CLARIFIED, ("resolve", SOLVED, "storage.l1")), None),
    Recipe("closed servers", "MEGA-RETAIL", "DELL-R740-0002", (*CLARIFIED, ("resolve", SOLVED, "servers.l1")), None),
    Recipe(
        "closed after escalation",
        "NORD-BANK",
        "IBM-FS5200-0001",
        (*CLARIFIED, ("resolve", ESCALATE, "storage.l1"), ("resolve", SOLVED, "storage.l2")),
        None,
    ),
)
OPEN_STATES = (
    Recipe("open at the duty desk", "NORD-BANK", "IBM-FS5200-0001", (), "duty"),
    Recipe("open at storage L1", "NORD-BANK", "IBM-FS5200-0001", CLARIFIED, "storage-L1"),
    Recipe("open at servers L1", "NORD-BANK", "DELL-R750-0001", CLARIFIED, "servers-L1"),
    Recipe("open at network L1", "NORD-BANK", "CISCO-C9300-0001", CLARIFIED, "network-L1"),
    Recipe(
        "open at storage L2",
        "NORD-BANK",
        "IBM-FS5200-0001",
        (*CLARIFIED, ("resolve", ESCALATE, "storage.l1")),
        "storage-L2",
    ),
)


@dataclass(frozen=True)
class Loaded:
    """What a load made: tickets in all (templates included), the open ones by queue, and the seconds it took."""

    tickets: int
    open_by_queue: dict[str, int]
    seconds: float

    @property
    def per_second(self) -> float:
        """Tickets loaded per second."""
        return self.tickets / self.seconds


def _caller(ctx: Context, username: str) -> Caller:
    with ctx.sessions() as session:
        caller = Caller.of(session.scalar(select(User).where(User.username == username)))
    assert caller is not None, username
    return caller


def make_template(ctx: Context, recipe: Recipe) -> int:
    """Open a ticket and take it through the recipe's completions with the service's own functions; its id."""
    duty = _caller(ctx, "duty")
    with transaction(ctx.sessions) as session:
        fields = {
            "client": recipe.client,
            "contact_email": f"it@{recipe.client.lower()}.example",
            "equipment_serial": recipe.serial,
            "channel": "portal",
            "summary": recipe.name,
            "severity": "high",
            "category": "hardware",
        }
        ticket_id = open_ticket(session, ctx, user=duty, fields=fields, idempotency_key=None).ticket.id
    drain(ctx)
    for name, data, username in recipe.steps:
        user = _caller(ctx, username)
        with transaction(ctx.sessions) as session:
            query = select(UserTask.id).where(UserTask.ticket_id == ticket_id, UserTask.name == name)
            task_id = session.scalar(query.where(UserTask.state == OPEN))
            assert task_id is not None, (recipe.name, name)
            complete_task(session, ctx, user=user, task_id=task_id, data=data)
        drain(ctx)
    return ticket_id


# ---- replication ---------------------------------------------------------------------------------------------


def ticket_number(ticket_id: int) -> str:
    """The number the database derives from a ticket's id (`service.tickets.models.TICKET_NUMBER`)."""
    return f"SD-{ticket_id}" if ticket_id >= 1_000_000 else f"SD-{ticket_id:06d}"


#: What a copy puts in a cell of a template row: another id, a moved time, or the template's text with new tokens.
ID, MOMENT, TEXT = "id", "moment", "text"


@dataclass(frozen=True)
class Row:
    """A template row: its values, and the cells (position, kind, argument) that differ from copy to copy."""

    table: str
    values: tuple[Any, ...]
    slots: tuple[tuple[int, str, Any], ...]


class Template:
    """A template ticket's rows, ready to be copied."""

    def __init__(self, conn: Connection, ticket_id: int, *, postgres: bool) -> None:
        self.conn, self.postgres = conn, postgres
        self.rows: list[Row] = []
        self.tokens: set[str] = set()
        tables = Base.metadata.tables
        task_ids = select(UserTask.id).where(UserTask.ticket_id == ticket_id)
        for name in TABLES:
            table = tables[name]
            if name == "ticket":
                where = table.c.id == ticket_id
            elif name == "task_candidate":
                where = table.c.task_id.in_(task_ids)
            else:
                where = table.c.ticket_id == ticket_id
            found = conn.execute(select(*columns(table)).where(where).order_by(*table.primary_key.columns)).all()
            self.rows.extend(self._row(table, row._mapping) for row in found)
        self.number = ticket_number(ticket_id)
        self.tokens.add(self.number)

    def _row(self, table: Table, row: Any) -> Row:
        values: list[Any] = []
        slots: list[tuple[int, str, Any]] = []
        for position, column in enumerate(columns(table)):
            value = row[column.name]
            values.append(None)
            if column.name == "id" and table.name in COUNTED | set(PARENTS.values()):
                slots.append((position, ID, table.name))
            elif column.name in PARENTS:
                slots.append((position, ID, PARENTS[column.name]))
            elif isinstance(value, date):  # a datetime too
                slots.append((position, MOMENT, self._moment(column, value)))
            elif isinstance(column.type, JSON) or isinstance(value, str):
                raw = json.dumps(value) if isinstance(column.type, JSON) else value
                parts = TOKEN.split(raw)
                if len(parts) == 1:
                    values[-1] = raw
                else:
                    self.tokens.update(parts[1::2])
                    slots.append((position, TEXT, parts))
            else:
                values[-1] = _bound(self.conn, column, value)
        return Row(table.name, tuple(values), tuple(slots))

    def _moment(self, column: Any, value: Any) -> Callable[[timedelta], Any]:
        if self.postgres:  # psycopg writes datetimes itself
            return lambda shift: value - shift
        cache: dict[timedelta, Any] = {}

        def moved(shift: timedelta) -> Any:
            if shift not in cache:
                cache[shift] = _bound(self.conn, column, value - shift)
            return cache[shift]

        return moved

    def copy(self, ids: dict[str, int], shift: timedelta) -> Iterator[tuple[str, list[Any]]]:
        """The rows of one copy, its ids from `ids` (the next free id of each table), which moves on past them."""
        ticket_id = ids["ticket"]
        suffix = f"{ticket_id:012x}"
        tokens = {token: token[:24] + suffix for token in self.tokens if not token.startswith("SD-")}
        tokens[self.number] = ticket_number(ticket_id)
        for row in self.rows:
            values = list(row.values)
            for position, kind, argument in row.slots:
                if kind is ID:
                    values[position] = ids[argument]
                elif kind is MOMENT:
                    values[position] = argument(shift)
                else:
                    values[position] = "".join([tokens.get(part, part) for part in argument])
            if row.table in COUNTED:
                ids[row.table] += 1
            yield row.table, values
        ids["ticket"] += 1
        ids["process_instance"] += 1


def columns(table: Table) -> list[Any]:
    """The columns a copy writes: all but those the database computes (the ticket number)."""
    return [column for column in table.columns if column.computed is None]


def _bound(conn: Connection, column: Any, value: Any) -> Any:
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(value) if process is not None and value is not None else value


class Writer:
    """Rows in batches, by COPY on PostgreSQL and `executemany` on SQLite, in the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.postgres = conn.dialect.name == "postgresql"
        self.cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self.pending: dict[str, list[list[Any]]] = {name: [] for name in TABLES}
        self.names = {name: [c.name for c in columns(Base.metadata.tables[name])] for name in TABLES}

    def add(self, table: str, row: list[Any]) -> None:
        self.pending[table].append(row)

    def flush(self) -> None:
        for table in TABLES:  # parents first
            rows, names = self.pending[table], self.names[table]
            if not rows:
                continue
            quoted = ", ".join(f'"{name}"' for name in names)
            if self.postgres:
                with self.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in names)
                self.cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", rows)
            rows.clear()


def _next_ids(conn: Connection) -> dict[str, int]:
    tables = Base.metadata.tables
    return {
        name: (conn.execute(select(func.coalesce(func.max(tables[name].c.id), 0))).scalar() or 0) + 1
        for name in TABLES
        if name in COUNTED | set(PARENTS.values())
    }


def load(ctx: Context, *, tickets: int, open_share: float = 0.1, seed: int = 7) -> Loaded:
    """Make `tickets` tickets (the templates among them): about `open_share` open, spread over the open queues,
    the rest closed, moved back over the last year. Returns the counts and the time it took."""
    started = time.perf_counter()
    recipes = [*CLOSED, *OPEN_STATES]
    assert tickets >= len(recipes), f"at least {len(recipes)} tickets: one of each template"
    made = [(recipe, make_template(ctx, recipe)) for recipe in recipes]
    wanted_open = max(len(OPEN_STATES), round(tickets * open_share))
    plan = _plan(made, tickets=tickets, wanted_open=wanted_open)
    rng = random.Random(seed)
    with ctx.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        templates = {ticket_id: Template(conn, ticket_id, postgres=postgres) for _, ticket_id in made}
        ids = _next_ids(conn)
        writer = Writer(conn)
        for done, (recipe, ticket_id) in enumerate(plan, start=1):
            shift = timedelta(weeks=rng.randrange(1, WEEKS_BACK + 1)) if recipe.queue is None else timedelta(0)
            for table, row in templates[ticket_id].copy(ids, shift):
                writer.add(table, row)
            if done % CHUNK == 0:
                writer.flush()
        writer.flush()
        if postgres:
            for name in ids:
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
                )
            conn.execute(text("ANALYZE"))
    open_by_queue = Counter(recipe.queue for recipe, _ in [*made, *plan] if recipe.queue is not None)
    return Loaded(tickets, dict(open_by_queue), time.perf_counter() - started)


def _plan(made: list[tuple[Recipe, int]], *, tickets: int, wanted_open: int) -> list[tuple[Recipe, int]]:
    """The copies to make, interleaved so that ids mix the states: open ones round-robin over the open templates,
    closed ones over the closed templates."""
    closed = [item for item in made if item[0].queue is None]
    opened = [item for item in made if item[0].queue is not None]
    copies_open = max(0, wanted_open - len(opened))
    copies_closed = max(0, tickets - len(made) - copies_open)
    every = (copies_open + copies_closed) / copies_open if copies_open else 0
    plan: list[tuple[Recipe, int]] = []
    o = c = 0
    for position in range(copies_open + copies_closed):
        if copies_open and o < copies_open and position >= o * every:
            plan.append(opened[o % len(opened)])
            o += 1
        else:
            plan.append(closed[c % len(closed)])
            c += 1
    return plan


def run(url: str | None, *, tickets: int = 100_000) -> Loaded:
    """Load into a fresh database and print tickets/s."""
    ctx = prepared(url)
    try:
        loaded = load(ctx, tickets=tickets)
        with ctx.sessions() as session:
            counted = session.scalar(select(func.count()).select_from(Ticket)) or 0
    finally:
        ctx.engine.dispose()
    queues = ", ".join(f"{queue} {count:,}" for queue, count in sorted(loaded.open_by_queue.items()))
    print(
        f"bulk [{label(url)}]: {counted:,} tickets in {loaded.seconds:.1f} s, {loaded.per_second:,.0f} tickets/s "
        f"({sum(loaded.open_by_queue.values()):,} open: {queues})"
    )
    return loaded
