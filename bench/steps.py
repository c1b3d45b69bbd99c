"""SQL statements and process CPU per step of a ticket through the Flask test client: an intake (POST /tickets), the
clarify completion and an escalation step (resolve, outcome escalate), against the floor (`bench/floor_app.py`'s one
validated row per request) measured in the same run.

Statements are counted with SQLAlchemy's `before_cursor_execute` event (every statement any engine sends, the
transaction's BEGIN and COMMIT not included); CPU is this process's (`time.process_time`), so the database's own
work on PostgreSQL is not in it.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.common import label, prepared
from bench.floor_app import create_app as create_floor_app
from bench.floor_app import floor_row
from service.app import create_app
from service.auth.services import issue_token
from service.context import Context
from service.db import transaction
from service.worker import drain
from tests.support.tickets import DEMO_TICKET

TICKETS = 60


@dataclass
class Statements:
    """The statements sent while counting: all of them, and the SELECTs among them."""

    texts: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Every statement."""
        return len(self.texts)

    @property
    def selects(self) -> int:
        """The statements that only read."""
        return sum(1 for text in self.texts if text.lstrip().upper().startswith("SELECT"))


@contextmanager
def counting() -> Iterator[Statements]:
    """Count the statements every engine of this process sends inside the block."""
    seen = Statements()

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.texts.append(statement)

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", before)


@dataclass(frozen=True)
class Step:
    """One kind of request: statements (median, and its SELECTs) and CPU milliseconds (median) per request."""

    name: str
    statements: float
    selects: float
    cpu_ms: float


def measure(kinds: dict[str, list[Callable[[], Any]]]) -> dict[str, Step]:
    """Run the calls of each kind once, counting their statements and CPU time, the kinds in turn (the first call
    of each, then the second of each...): each kind meets the machine's speed of the moment as the others do, so
    their ratios hold on a machine whose speed moves. The medians of each kind."""
    counts: dict[str, list[int]] = {name: [] for name in kinds}
    selects: dict[str, list[int]] = {name: [] for name in kinds}
    cpu: dict[str, list[float]] = {name: [] for name in kinds}
    for turn in zip(*kinds.values(), strict=True):
        for name, call in zip(kinds, turn, strict=True):
            started = time.process_time()
            with counting() as seen:
                call()
            cpu[name].append((time.process_time() - started) * 1000)
            counts[name].append(seen.total)
            selects[name].append(seen.selects)
    return {
        name: Step(
            name, statistics.median(counts[name]), statistics.median(selects[name]), statistics.median(cpu[name])
        )
        for name in kinds
    }


class Client:
    """The service's API through the Flask test client, as demo users."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.http: FlaskClient = create_app(context=ctx).test_client()
        self.tokens: dict[str, str] = {}

    def call(self, method: str, path: str, *, as_: str, json: Any = None, expect: int = 200) -> Any:
        if as_ not in self.tokens:
            with transaction(self.ctx.sessions) as session:
                self.tokens[as_] = issue_token(session, username=as_)
        headers = {"Authorization": f"Bearer {self.tokens[as_]}"}
        response = self.http.open(f"/api/v1{path}", method=method, headers=headers, json=json)
        assert response.status_code == expect, (path, response.status_code, response.get_json())
        return response.get_json()

    def open_task(self, number: str, name: str, *, as_: str) -> str:
        ticket = self.call("GET", f"/tickets/{number}", as_="admin")
        return next(task["id"] for task in ticket["open_tasks"] if task["name"] == name)


def _floor(ctx: Context) -> Step:
    floor_row.create(ctx.engine, checkfirst=True)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = ctx.config.database_url
    try:
        client = create_floor_app().test_client()
    finally:
        if previous is None:
            del os.environ["DATABASE_URL"]
        else:
            os.environ["DATABASE_URL"] = previous

    def one() -> None:
        assert client.post("/floor", json={"summary": DEMO_TICKET["summary"]}).status_code == 201

    for _ in range(5):  # warm-up
        one()
    return measure({"floor": [one] * TICKETS})["floor"]


def prepare(ctx: Context, *, tickets: int) -> dict[str, list[Callable[[], Any]]]:
    """The calls of each kind of step, ready to be made: `tickets` intakes, and as many clarify completions and
    escalations of tickets made ready for them (their jobs drained), after a warm-up that fills the caches."""
    client = Client(ctx)
    for _ in range(3):  # warm-up: caches of definitions, rules, service levels and compiled queries
        client.call("POST", "/tickets", as_="duty", json=DEMO_TICKET, expect=201)
    client.call("GET", "/tasks?page_size=1", as_="storage.l1")  # its token
    drain(ctx)

    def opened() -> str:
        return str(client.call("POST", "/tickets", as_="duty", json=DEMO_TICKET, expect=201)["number"])

    def completion(number: str, name: str, data: dict[str, Any], as_: str) -> Callable[[], None]:
        task_id = client.open_task(number, name, as_=as_)
        return lambda: client.call("POST", f"/tasks/{task_id}/complete", as_=as_, json={"data": data})

    # Tickets at each step's start: their clarify task listed, and (clarified) their resolve task; one of each
    # completed first, so that every kind's first call finds the process's caches filled.
    to_clarify, to_escalate = [opened() for _ in range(tickets + 1)], [opened() for _ in range(tickets + 1)]
    drain(ctx)
    for number in [to_clarify.pop(), *to_escalate]:
        completion(number, "clarify", {"description": "bench"}, "duty")()
    drain(ctx)
    completion(to_escalate.pop(), "resolve", {"outcome": "escalate"}, "storage.l1")()
    drain(ctx)
    return {
        "intake": [opened] * tickets,
        "clarify": [completion(n, "clarify", {"description": "bench"}, "duty") for n in to_clarify],
        "escalation": [completion(n, "resolve", {"outcome": "escalate"}, "storage.l1") for n in to_escalate],
    }


def run(url: str | None, *, tickets: int = TICKETS) -> dict[str, Step]:
    """Print statements and CPU per intake, clarify and escalation step, beside the floor."""
    logging.disable(logging.INFO)  # the access log of every request
    ctx = prepared(url)
    try:
        steps = measure(prepare(ctx, tickets=tickets))
        drain(ctx)
        steps["floor"] = _floor(ctx)
    finally:
        ctx.engine.dispose()
        logging.disable(logging.NOTSET)
    floor = steps["floor"]
    for step in steps.values():
        print(
            f"steps [{label(url)}] {step.name}: {step.statements:.0f} statements ({step.selects:.0f} SELECTs), "
            f"{step.cpu_ms:.1f} ms CPU ({step.cpu_ms / floor.cpu_ms:.1f}x the floor's CPU)"
        )
    intake_cpu = steps["intake"].cpu_ms
    print(
        f"steps [{label(url)}] CPU completion/intake: clarify {steps['clarify'].cpu_ms / intake_cpu:.2f}x, "
        f"escalation {steps['escalation'].cpu_ms / intake_cpu:.2f}x (median of {tickets} requests each, taken in turn)"
    )
    return steps
