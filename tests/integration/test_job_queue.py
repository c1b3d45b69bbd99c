"""The job queue at size: claims read only live entries, finished jobs leave the table, workers share the queue."""

from __future__ import annotations

import contextvars
import dataclasses
import socket
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, select, update

from adapters.mail import SmtpMailer
from service.context import Context
from service.db import transaction, utcnow
from service.jobs.models import DONE, FAILED, PENDING, RUNNING, Job
from service.jobs.retention import purge_done_jobs
from service.jobs.services import claim_job
from service.observability.models import WorkerHeartbeat
from service.worker import drain, run_worker, run_workers
from tests.integration.conftest import Api
from tests.integration.test_worker_crash import _worker
from tests.support.processes import stop
from tests.support.smtp import free_port


def _claim(session: Any, ctx: Context) -> Job | None:
    """claim_job as the worker calls it: in a context of its own, so the request id it binds stays there."""
    return contextvars.copy_context().run(claim_job, session, ctx)


def _claim_statements(ctx: Context) -> list[tuple[str, Any]]:
    """The statements one claim runs on the job table, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE")) and " job" in statement:
            seen.append((statement, parameters))

    event.listen(ctx.engine, "before_cursor_execute", listen)
    try:
        with transaction(ctx.sessions) as session:
            assert _claim(session, ctx) is not None
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
    # the jobs whose lease ran out put back, then one UPDATE of the first pending job
    assert [statement.split()[0] for statement, _ in statements] == ["SELECT", "UPDATE"]
    for statement, parameters in statements:
        plan = _plan(api.ctx, statement, parameters)
        if api.ctx.engine.dialect.name == "postgresql":
            assert "Index Scan using ix_job_due" in plan and "Bitmap" not in plan and "Sort" not in plan, plan
        else:
            assert "USING INDEX ix_job_due" in plan and "TEMP B-TREE" not in plan and "OR" not in plan, plan


def test_a_job_whose_lease_ran_out_is_due_from_then_before_a_later_backlog(api: Api) -> None:
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
        job = _claim(session, api.ctx)
        assert job is not None and job.id == newest and job.attempts == 2
    with transaction(api.ctx.sessions) as session:
        job = _claim(session, api.ctx)
        first = session.scalar(select(Job.id).where(Job.status == PENDING).order_by(Job.run_after, Job.id))
        assert job is not None and first is not None and job.id < first  # then the oldest pending one


def _history(api: Api, number: str, kind: str) -> list[dict[str, Any]]:
    events = api.history(number, as_="admin")
    return [e for e in events if e["kind"] == kind]


def _jobs(ctx: Context, *statuses: str) -> int:
    with transaction(ctx.sessions) as session:
        return session.scalar(select(func.count()).select_from(Job).where(Job.status.in_(statuses))) or 0


def test_done_jobs_past_retention_leave_the_table_and_their_history_stays(api: Api) -> None:
    number = api.open_ticket()["number"]
    assert drain(api.ctx) == 3
    assert _jobs(api.ctx, DONE) == 3
    config = dataclasses.replace(api.ctx.config, job_retention_days=1.0, job_purge_batch=2)
    with transaction(api.ctx.sessions) as session:
        assert purge_done_jobs(session, config=config) == 0  # done just now: within its retention
    later = utcnow() + timedelta(days=1, seconds=1)
    with transaction(api.ctx.sessions) as session:
        assert purge_done_jobs(session, config=config, now=later) == 2  # one bounded batch
    with transaction(api.ctx.sessions) as session:
        assert purge_done_jobs(session, config=config, now=later) == 1
    assert _jobs(api.ctx, PENDING, RUNNING, DONE, FAILED) == 0
    done = {e["detail"]["topic"]: e["detail"] for e in _history(api, number, "job_done")}
    assert set(done) == {"files.create_folder", "mail.ticket_opened", "notify.duty_officers"}
    folder = done["files.create_folder"]
    assert folder["attempts"] == 1 and folder["result"] == {"folder_url": api.ticket(number)["folder_url"]}


def test_with_no_retention_a_job_is_deleted_once_done_and_an_incident_stays(api: Api) -> None:
    number = api.open_ticket()["number"]
    config = dataclasses.replace(api.ctx.config, job_retention_days=0.0, job_max_attempts=1)
    unreachable = SmtpMailer("127.0.0.1", free_port(), "desk@orchestrator.example", timeout=2)
    drain(dataclasses.replace(api.ctx, mailer=unreachable, config=config))  # the folder is made, the first mail fails
    assert _jobs(api.ctx, DONE) == 0 and _jobs(api.ctx, FAILED) == 1
    with transaction(api.ctx.sessions) as session:
        assert purge_done_jobs(session, config=config) == 0  # incidents are not done jobs: they wait for a person
    assert _jobs(api.ctx, FAILED) == 1
    assert [e["detail"]["topic"] for e in _history(api, number, "job_done")] == ["files.create_folder"]


def test_the_worker_loop_sweeps_done_jobs_between_jobs(api: Api) -> None:
    number = api.open_ticket()["number"]
    # one job a round (no chain), so that the rounds can be counted
    config = dataclasses.replace(api.ctx.config, job_retention_days=1e-9, job_purge_seconds=0.0, job_chain=False)
    ran = run_worker(dataclasses.replace(api.ctx, config=config), stop=threading.Event(), max_jobs=3)
    assert ran == 3
    assert _jobs(api.ctx, DONE) == 1  # each round sweeps before its job: the last job done is still there
    assert len(_history(api, number, "job_done")) == 3


def test_two_worker_loops_share_the_queue_and_run_each_job_once(api: Api, smtp_server) -> None:  # type: ignore[no-untyped-def]
    tickets = 12
    numbers = [api.open_ticket()["number"] for _ in range(tickets)]
    config = dataclasses.replace(api.ctx.config, worker_poll_seconds=0.05)
    stop = threading.Event()
    workers = threading.Thread(
        target=lambda: run_workers(dataclasses.replace(api.ctx, config=config), stop=stop, concurrency=2)
    )
    workers.start()
    try:
        mails = smtp_server.wait_for_count(2 * tickets, timeout=60)  # the client's and the duty officers', each
        deadline = utcnow() + timedelta(seconds=60)
        while _jobs(api.ctx, PENDING, RUNNING) and utcnow() < deadline:
            stop.wait(0.05)
    finally:
        stop.set()
        workers.join(30)
    assert not workers.is_alive()
    assert _jobs(api.ctx, DONE) == 3 * tickets and _jobs(api.ctx, PENDING, RUNNING, FAILED) == 0
    message_ids = [mail.message_id for mail in smtp_server.messages]
    assert len(message_ids) == len(set(message_ids)) == 2 * tickets, mails
    for number in numbers:
        assert sorted(e["detail"]["topic"] for e in _history(api, number, "job_done")) == [
            "files.create_folder",
            "mail.ticket_opened",
            "notify.duty_officers",
        ]
    with transaction(api.ctx.sessions) as session:
        runners = set(session.scalars(select(Job.locked_by)))
    assert runners and all(runner and runner.endswith(("#1", "#2")) for runner in runners), runners
    if api.ctx.engine.dialect.name == "postgresql":  # on SQLite one write lock lets one loop win every claim at times
        assert len(runners) == 2, runners


def test_worker_processes_with_several_loops_share_the_queue_and_run_each_job_once(api: Api, smtp_server) -> None:  # type: ignore[no-untyped-def]
    tickets = 8
    for _ in range(tickets):
        api.open_ticket()
    processes = [_worker(api, smtp_server, "--concurrency", "2"), _worker(api, smtp_server)]
    try:
        smtp_server.wait_for_count(2 * tickets, timeout=90)
        deadline = utcnow() + timedelta(seconds=60)
        # every loop has started (its heartbeat written, SIGTERM handled from then on), and every job is done
        while (_jobs(api.ctx, PENDING, RUNNING) or len(_beats(api)) < 3) and utcnow() < deadline:
            threading.Event().wait(0.1)
    finally:
        for process in processes:
            stop(process)
    assert [process.returncode for process in processes] == [0, 0]  # SIGTERM: each finished its job and stopped
    assert _jobs(api.ctx, DONE) == 3 * tickets
    message_ids = [mail.message_id for mail in smtp_server.messages]
    assert len(message_ids) == len(set(message_ids)) == 2 * tickets
    host = socket.gethostname()
    expected = {f"{host}:{processes[0].pid}#1", f"{host}:{processes[0].pid}#2", f"{host}:{processes[1].pid}"}
    assert _beats(api) == expected


def _beats(api: Api) -> set[str]:
    """The workers that have written a heartbeat."""
    with transaction(api.ctx.sessions) as session:
        return set(session.scalars(select(WorkerHeartbeat.worker)))
