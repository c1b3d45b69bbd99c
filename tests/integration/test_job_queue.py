"""The job queue at size: claims read only live entries, finished jobs leave the table, workers share the queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, update

from service.context import Context
from service.db import transaction, utcnow
from service.jobs.models import PENDING, RUNNING, Job
from service.jobs.services import claim_job
from tests.integration.conftest import Api


def _claim_statements(ctx: Context) -> list[tuple[str, Any]]:
    """The SELECTs one claim runs, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and " job" in statement:
            seen.append((statement, parameters))

    event.listen(ctx.engine, "before_cursor_execute", listen)
    try:
        with transaction(ctx.sessions) as session:
            assert claim_job(session, ctx) is not None
    finally:
        event.remove(ctx.engine, "before_cursor_execute", listen)
    return seen


def _plan(ctx: Context, statement: str, parameters: Any) -> str:
    with ctx.engine.connect() as conn:
        if ctx.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # a test table is tiny: ask what the index can do
            rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
            conn.exec_driver_sql("RESET enable_seqscan")
        else:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        return "\n".join(str(row[-1]) for row in rows)


def test_a_claim_is_an_ordered_range_scan_of_the_due_index(api: Api) -> None:
    api.open_ticket()
    statements = _claim_statements(api.ctx)
    assert len(statements) == 2  # expired leases first, then pending jobs
    for statement, parameters in statements:
        plan = _plan(api.ctx, statement, parameters)
        if api.ctx.engine.dialect.name == "postgresql":
            assert "Index Scan using ix_job_due" in plan and "Bitmap" not in plan and "Sort" not in plan, plan
        else:
            assert "USING INDEX ix_job_due" in plan and "TEMP B-TREE" not in plan and "OR" not in plan, plan


def test_an_expired_lease_is_taken_before_a_backlog_of_pending_jobs(api: Api) -> None:
    for _ in range(3):
        api.open_ticket()
    with transaction(api.ctx.sessions) as session:
        newest = session.scalar(select(Job.id).order_by(Job.id.desc()).limit(1))
        session.execute(
            update(Job)
            .where(Job.id == newest)
            .values(status=RUNNING, attempts=1, locked_until=utcnow() - timedelta(seconds=1))
        )
    with transaction(api.ctx.sessions) as session:
        job = claim_job(session, api.ctx)
        assert job is not None and job.id == newest and job.attempts == 2
    with transaction(api.ctx.sessions) as session:
        job = claim_job(session, api.ctx)
        first = session.scalar(select(Job.id).where(Job.status == PENDING).order_by(Job.run_after, Job.id))
        assert job is not None and first is not None and job.id < first  # then the oldest pending one
