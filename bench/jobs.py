"""The job queue: jobs/s of the worker (one loop, and two over PostgreSQL) and the cost of a claim at size.

Every ticket opened gives the worker three jobs (folder, mail to the client, mail to the duty officers). The
baseline of the jobs/s is the bare queue over the same rows in the same run: each job claimed by `claim_job` and
marked done in a second transaction, with no effect and no step of its instance. The claim is then timed with
40,000 done jobs in the table that went through pending and running first (their dead versions left in the
indexes, autovacuum off for the table), against the claim this project had before (one OR of the two due states),
and again after the worker's retention has deleted them.
"""

from __future__ import annotations

import contextvars
import statistics
import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, insert, or_, select, text, update

from bench.common import label, prepared
from service.auth.models import Caller, User
from service.context import Context
from service.db import is_postgres, transaction, utcnow
from service.jobs.models import DONE, PENDING, RUNNING, Job
from service.jobs.retention import purge_done_jobs
from service.jobs.services import claim_job
from service.tickets.services import open_ticket
from service.worker import run_workers
from tests.support.tickets import DEMO_TICKET

TICKETS = 100
DONE_JOBS = 40_000
CLAIMS = 30


def _open(ctx: Context, tickets: int) -> None:
    with transaction(ctx.sessions) as session:
        duty = Caller.of(session.scalar(select(User).where(User.username == "duty")))
    for _ in range(tickets):
        with transaction(ctx.sessions) as session:
            open_ticket(session, ctx, user=duty, fields=dict(DEMO_TICKET), idempotency_key=None)


def _waiting(ctx: Context) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(Job).where(Job.status.in_((PENDING, RUNNING)))) or 0


def _done(ctx: Context) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(Job).where(Job.status == DONE)) or 0


def _worker_rate(ctx: Context, *, concurrency: int) -> float:
    """Jobs/s of `concurrency` worker loops draining the jobs of TICKETS new tickets."""
    _open(ctx, TICKETS)
    before = _done(ctx)  # each job done creates the next of its ticket: count them at the end
    stop = threading.Event()
    loops = threading.Thread(target=lambda: run_workers(ctx, stop=stop, concurrency=concurrency))
    started = time.perf_counter()
    loops.start()
    while _waiting(ctx):
        time.sleep(0.2)  # each look is a transaction (on SQLite it takes the write lock): look seldom
    elapsed = time.perf_counter() - started
    stop.set()
    loops.join()
    return (_done(ctx) - before) / elapsed


def _bare_rate(ctx: Context) -> float:
    """Jobs/s of the bare queue: the done jobs put back, each claimed and marked done, nothing else."""
    with transaction(ctx.sessions) as session:
        session.execute(update(Job).values(status=PENDING, attempts=0, run_after=utcnow(), locked_until=None))
    jobs = _waiting(ctx)
    started = time.perf_counter()
    while True:
        with transaction(ctx.sessions) as session:
            job = contextvars.copy_context().run(claim_job, session, ctx)  # its request id stays there
            if job is None:
                break
            job_id = job.id
        with transaction(ctx.sessions) as session:
            session.execute(update(Job).where(Job.id == job_id).values(status=DONE, locked_until=None))
    return jobs / (time.perf_counter() - started)


def _load_done(ctx: Context, count: int) -> None:
    """`count` jobs that were pending, then running, then done 8 days ago: their dead versions stay in the indexes."""
    with transaction(ctx.sessions) as session:
        if is_postgres(session):
            session.execute(text("ALTER TABLE job SET (autovacuum_enabled = false)"))
        instance_id, ticket_id = session.execute(select(Job.instance_id, Job.ticket_id).limit(1)).one()
        rows = [
            {"instance_id": instance_id, "ticket_id": ticket_id, "task_id": f"bench-{n}", "element_id": "bench"}
            | {"topic": "files.create_folder", "variables": {}, "status": PENDING, "run_after": utcnow()}
            for n in range(count)
        ]
        for chunk in range(0, count, 5000):
            session.execute(insert(Job), rows[chunk : chunk + 5000])
    bench = Job.task_id.like("bench-%")
    with transaction(ctx.sessions) as session:
        session.execute(update(Job).where(bench).values(status=RUNNING, locked_until=utcnow()))
    with transaction(ctx.sessions) as session:
        session.execute(update(Job).where(bench).values(status=DONE, updated_at=utcnow() - timedelta(days=8)))


def _old_claim(ctx: Context) -> None:
    """The claim as it was: one query over an OR of the two due states."""
    now = utcnow()
    due = or_((Job.status == PENDING) & (Job.run_after <= now), (Job.status == RUNNING) & (Job.locked_until < now))
    query = select(Job).where(due).order_by(Job.run_after, Job.id).limit(1)
    with ctx.sessions() as session:
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True, of=Job)
        assert session.scalar(query) is not None
        session.rollback()


def _new_claim(ctx: Context) -> None:
    with ctx.sessions() as session:
        assert contextvars.copy_context().run(claim_job, session, ctx) is not None
        session.rollback()


def _claim_ms(ctx: Context) -> tuple[float, float]:
    """Median milliseconds of a claim, the one before and this one, with one due job in the queue."""
    costs: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(CLAIMS):
        for name, claim in (("old", _old_claim), ("new", _new_claim)):
            started = time.perf_counter()
            claim(ctx)
            costs[name].append((time.perf_counter() - started) * 1000)
    return statistics.median(costs["old"]), statistics.median(costs["new"])


def _pages(ctx: Context) -> tuple[int, int]:
    """PostgreSQL: the buffers (pages) the claim before and this one read, from EXPLAIN (ANALYZE, BUFFERS)."""
    pages = []
    for claim in (_old_claim, _new_claim):
        statements: list[tuple[str, Any]] = []

        def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
            if statement.lstrip().upper().startswith(("SELECT", "UPDATE")) and "job" in statement.split("WHERE")[0]:
                statements.append((statement, parameters))  # noqa: B023 - used before the loop moves on

        event.listen(ctx.engine, "before_cursor_execute", seen)
        try:
            claim(ctx)
        finally:
            event.remove(ctx.engine, "before_cursor_execute", seen)
        total = 0
        with ctx.engine.connect() as conn:
            for statement, parameters in statements:
                [[plan]] = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", parameters)
                total += _buffers(plan[0]["Plan"])
            conn.rollback()
        pages.append(total)
    return pages[0], pages[1]


def _buffers(node: dict[str, Any]) -> int:
    own = int(node.get("Shared Hit Blocks", 0)) + int(node.get("Shared Read Blocks", 0))
    return max([own, *(_buffers(child) for child in node.get("Plans", []))])


def _claims(ctx: Context, when: str) -> None:
    old, new = _claim_ms(ctx)
    line = f"{label(ctx.config.database_url)}: {when}: a claim {new:.2f} ms (the OR claim before: {old:.2f} ms)"
    if is_postgres(ctx.sessions()):
        old_pages, new_pages = _pages(ctx)
        line += f"; pages read {new_pages} (the OR claim: {old_pages})"
    print(line)


def _purge_all(ctx: Context) -> tuple[int, float]:
    deleted, started = 0, time.perf_counter()
    while True:
        with transaction(ctx.sessions) as session:
            batch = purge_done_jobs(session, config=ctx.config)
        deleted += batch
        if batch == 0:
            return deleted, time.perf_counter() - started


def run(url: str | None) -> None:
    """Print the worker's jobs/s beside the bare queue's, then claim times with 40,000 done jobs and after retention."""
    ctx = prepared(url, worker_poll_seconds=0.02)
    name = label(url)
    one = _worker_rate(ctx, concurrency=1)
    line = f"{name}: one worker {one:,.1f} jobs/s"
    if is_postgres(ctx.sessions()):
        two = _worker_rate(ctx, concurrency=2)
        line += f", two {two:,.1f} jobs/s ({two / one:.2f}x one)"
    bare = _bare_rate(ctx)
    print(f"{line}; the bare queue (claim + mark done) over the same rows: {bare:,.0f} jobs/s ({bare / one:.0f}x one)")
    _open(ctx, 1)  # one due job to claim
    _load_done(ctx, DONE_JOBS)
    _claims(ctx, f"{DONE_JOBS:,} done jobs")
    deleted, seconds = _purge_all(ctx)
    print(
        f"{name}: retention deleted {deleted:,} done jobs in {seconds:.1f} s ({deleted / seconds:,.0f}/s, batches of "
        f"{ctx.config.job_purge_batch})"
    )
    _claims(ctx, "after retention")
    if is_postgres(ctx.sessions()):
        with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM job"))
        _claims(ctx, "after a VACUUM")
    ctx.engine.dispose()
