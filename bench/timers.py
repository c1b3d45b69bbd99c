"""Timers: 1,000 timers due in the same minute fired by one worker and by two, and what a boundary timer costs a step.

Each ticket of the firing run waits on an intermediate timer (one minute) before anything else, so opening it is
one step that writes one due-timer row. The worker loops' timer part (`run_due_timer`) then fires them all with the
clock at the end of that minute: the time until none is left, and how many fired twice (must be 0: rows fired more
than once, or tickets with more than one `timer_fired` in their history). The step cost is the time to open a
ticket, run its three jobs and complete `clarify`, of the default flow against the same flow with an interrupting
boundary timer on `clarify`, in the same run.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import func, select

from bench.common import label, prepared
from service.auth.models import Caller, User
from service.context import Context
from service.db import transaction
from service.jobs.topics import TOPICS
from service.processes.definitions import deploy_definition
from service.rulesets.models import RulesetVersion
from service.tasks.models import OPEN, UserTask
from service.tasks.services import complete_task
from service.tickets.models import HistoryEvent
from service.tickets.services import open_ticket
from service.timers.firing import run_due_timer
from service.timers.models import FIRED, WAITING, DueTimer
from service.worker import drain
from tests.support.tickets import DEMO_TICKET
from tests.support.timers import with_boundary, with_pause_first

TIMERS = 1000
STEPPED = 30


def _caller(ctx: Context, username: str) -> Caller:
    with transaction(ctx.sessions) as session:
        return Caller.of(session.scalar(select(User).where(User.username == username)))


def _deploy(ctx: Context, xml: bytes) -> None:
    with transaction(ctx.sessions) as session:
        deploy_definition(
            session,
            xml=xml,
            filename="ticket.bpmn",
            actor="bench",
            known_topics=set(TOPICS),
            known_rulesets=set(session.scalars(select(RulesetVersion.name).where(RulesetVersion.active.is_(True)))),
        )


def _open(ctx: Context, duty: Caller) -> str:
    with transaction(ctx.sessions) as session:
        opened = open_ticket(session, ctx, user=duty, fields=dict(DEMO_TICKET), idempotency_key=None)
        return str(opened.ticket.number)


def _fire_all(ctx: Context, now: datetime, *, workers: int) -> float:
    started = time.perf_counter()

    def loop(name: str) -> None:
        while run_due_timer(ctx, worker=name, now=now) is not None:
            pass

    threads = [threading.Thread(target=loop, args=(f"bench#{n}",)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def _twice(ctx: Context) -> int:
    with ctx.sessions() as session:
        rows = session.scalar(select(func.count()).select_from(DueTimer).where(DueTimer.fired_count > 1)) or 0
        per_ticket = (
            select(HistoryEvent.ticket_id)
            .where(HistoryEvent.kind == "timer_fired")
            .group_by(HistoryEvent.ticket_id)
            .having(func.count() > 1)
        )
        tickets = session.scalar(select(func.count()).select_from(per_ticket.subquery())) or 0
        return int(rows) + int(tickets)


def _firing(url: str | None, workers: int) -> str:
    ctx = prepared(url)
    _deploy(ctx, with_pause_first("PT1M"))
    duty = _caller(ctx, "duty")
    for _ in range(TIMERS):
        _open(ctx, duty)
    with ctx.sessions() as session:
        now = session.scalar(select(func.max(DueTimer.due_at)))
        waiting = session.scalar(select(func.count()).select_from(DueTimer).where(DueTimer.state == WAITING))
    assert now is not None and waiting == TIMERS
    seconds = _fire_all(ctx, now, workers=workers)
    with ctx.sessions() as session:
        fired = session.scalar(select(func.count()).select_from(DueTimer).where(DueTimer.state == FIRED))
    ctx.engine.dispose()
    return (
        f"{workers} worker{'s' if workers > 1 else ''}: {fired:,} fired in {seconds:.1f} s, fired twice {_twice(ctx)}"
    )


def _step_cost(ctx: Context, duty: Caller, tickets: int = STEPPED) -> float:
    """Seconds per ticket: opened, its three jobs run, clarify completed."""
    started = time.perf_counter()
    for _ in range(tickets):
        number = _open(ctx, duty)
        drain(ctx)
        with transaction(ctx.sessions) as session:
            task = session.scalar(
                select(UserTask).where(UserTask.name == "clarify", UserTask.state == OPEN).order_by(UserTask.id.desc())
            )
            assert task is not None, number
            complete_task(session, ctx, user=duty, task_id=task.id, data={"description": "down"})
        drain(ctx)
    return (time.perf_counter() - started) / tickets


def run(url: str | None) -> None:
    """Print the firing times and double firings, then the step cost with and without a boundary timer."""
    name = label(url)
    print(f"{name}: {TIMERS:,} timers due in one minute; {_firing(url, 1)}; {_firing(url, 2)}")
    ctx = prepared(url)
    duty = _caller(ctx, "duty")
    _step_cost(ctx, duty, 5)  # warm: the parsed diagrams, the rules, the statement caches
    plain = _step_cost(ctx, duty)
    _deploy(ctx, with_boundary(interrupting=True))
    timed = _step_cost(ctx, duty)
    print(
        f"{name}: a ticket to past clarify takes {timed * 1000:.1f} ms with a boundary timer, "
        f"{plain * 1000:.1f} ms without ({timed / plain:.2f}x)"
    )
