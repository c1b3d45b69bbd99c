"""The cost of the 1st versus the 10th escalation step of one ticket (services and database, no HTTP)."""

from __future__ import annotations

import statistics
import time

from sqlalchemy import select

from bench.common import label, prepared
from service.auth.models import Caller, User
from service.context import Context
from service.db import transaction
from service.tasks.models import OPEN, UserTask
from service.tasks.services import complete_task
from service.tickets.models import Ticket
from service.tickets.services import open_ticket
from service.worker import drain
from tests.support.tickets import DEMO_TICKET

STEPS = 10


def _complete(ctx: Context, number: str, name: str, data: dict, username: str) -> float:
    with transaction(ctx.sessions) as session:
        user = Caller.of(session.scalar(select(User).where(User.username == username)))
        task_id = session.scalar(
            select(UserTask.id)
            .join(Ticket, UserTask.ticket_id == Ticket.id)
            .where(Ticket.number == number, UserTask.name == name, UserTask.state == OPEN)
        )
        assert user is not None and task_id is not None, (number, name)
    started = time.perf_counter()
    with transaction(ctx.sessions) as session:
        complete_task(session, ctx, user=user, task_id=task_id, data=data)
    return time.perf_counter() - started


def _one_ticket(ctx: Context) -> list[float]:
    with transaction(ctx.sessions) as session:
        duty = Caller.of(session.scalar(select(User).where(User.username == "duty")))
        fields = dict(DEMO_TICKET)
        number = open_ticket(session, ctx, user=duty, fields=fields, idempotency_key=None).ticket.number
    drain(ctx)
    _complete(ctx, number, "clarify", {"description": "bench"}, "duty")
    costs = []
    for _ in range(STEPS):
        with ctx.sessions() as session:
            level = session.scalar(select(Ticket.level).where(Ticket.number == number))
        costs.append(_complete(ctx, number, "resolve", {"outcome": "escalate"}, f"storage.l{level}"))
        with ctx.sessions() as session:
            status = session.scalar(select(Ticket.status).where(Ticket.number == number))
        if status == "manager_review":
            _complete(ctx, number, "manager_review", {"decision": "continue"}, "manager")
    return costs


def run(url: str | None, tickets: int = 15) -> dict[str, float]:
    """Print the median cost of the 1st and the 10th escalation step over several tickets."""
    ctx = prepared(url)
    try:
        _one_ticket(ctx)  # warm-up
        runs = [_one_ticket(ctx) for _ in range(tickets)]
    finally:
        ctx.engine.dispose()
    first = statistics.median(costs[0] for costs in runs)
    tenth = statistics.median(costs[STEPS - 1] for costs in runs)
    print(
        f"escalation [{label(url)}]: step 1 {first * 1000:.1f} ms, step 10 {tenth * 1000:.1f} ms "
        f"(median of {tickets} tickets): the 10th step costs {tenth / first:.2f}x the 1st"
    )
    return {"first": first, "tenth": tenth, "ratio": tenth / first}
