"""Inbox benchmark: `GET /tasks` over N open tasks, first page and a deep page, beside a plain indexed SQL query.

The open tasks are written straight into the projection tables (ticket, instance, task, candidate group), as the
engine would leave them; half have a due time. The caller is a duty officer whose queue holds them all. Each figure is
the server time of the request through the Flask test client, beside the same page read by one hand-written SQL query
over the same indexes in the same run: the ratio is what the API adds (auth, schema, JSON) on top of the database.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, text

from bench.common import floor_page, label, prepared, rss_over, times
from service.app import create_app
from service.auth.services import issue_token
from service.clients.models import Contact
from service.db import UtcDateTime, transaction, utcnow
from service.processes.models import ProcessDefinition, ProcessInstance
from service.tasks.models import TaskCandidate, UserTask
from service.tickets.models import Ticket

SIZES = (1000, 10000)
PAGE = 50
REPEATS = 30
GROUP = "duty"
PLAIN = text(
    "SELECT t.id, t.name, t.title, t.assignee, t.claimed_by, t.priority, t.due_at, t.created_at, "
    "k.number, k.summary, k.severity FROM user_task t JOIN ticket k ON k.id = t.ticket_id "
    "WHERE t.state = 'open' AND (t.created_at, t.id) > (:after_at, :after_id) "
    "AND EXISTS (SELECT 1 FROM task_candidate c WHERE c.task_id = t.id AND c.group_name = :grp) "
    "ORDER BY t.created_at, t.id LIMIT :n"
).bindparams(bindparam("after_at", type_=UtcDateTime()))


def _fill(ctx: Any, count: int) -> None:
    """`count` open tickets, each with its instance and one open task in the duty queue."""
    with transaction(ctx.sessions) as session:
        contact = session.scalars(select(Contact).order_by(Contact.id)).first()
        definition = session.scalars(select(ProcessDefinition.id).order_by(ProcessDefinition.id)).first()
        assert contact is not None and definition is not None
        start = (session.scalar(select(Ticket.id).order_by(Ticket.id.desc())) or 0) + 1
        now = utcnow()
        ids = range(start, start + count)
        session.execute(
            insert(Ticket),
            [
                {
                    "id": i,
                    "client_id": contact.client_id,
                    "contact_id": contact.id,
                    "channel": "portal",
                    "summary": f"Disk array {i} degraded",
                    "severity": ("critical", "high", "normal", "low")[i % 4],
                    "status": "clarifying",
                    "created_at": now - timedelta(seconds=count - i),
                    "updated_at": now,
                }
                for i in ids
            ],
        )
        session.execute(
            insert(ProcessInstance),
            [{"id": i, "definition_id": definition, "ticket_id": i, "document": "{}"} for i in ids],
        )
        tasks = [
            {
                "id": str(uuid.uuid4()),
                "instance_id": i,
                "ticket_id": i,
                "name": "clarify",
                "title": "Clarify ticket details",
                "form": [{"id": "description", "label": "Description", "type": "string", "required": True}] * 4,
                "due_at": now + timedelta(hours=i % 48) if i % 2 else None,
                "created_at": now - timedelta(seconds=count - i),
            }
            for i in ids
        ]
        session.execute(insert(UserTask), tasks)
        session.execute(insert(TaskCandidate), [{"task_id": task["id"], "group_name": GROUP} for task in tasks])


def _measure(ctx: Any, count: int) -> None:
    app = create_app(context=ctx)
    client = app.test_client()
    with transaction(ctx.sessions) as session:
        token = issue_token(session, username="duty")
    headers = {"Authorization": f"Bearer {token}"}

    def page(cursor: str | None) -> Any:
        path = f"/api/v1/tasks?page_size={PAGE}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.get_json()
        return response

    # the deep page: the one at 90 % of the inbox, reached by walking it in bigger pages
    cursor, walked, deep_after, step = None, 0, None, min(500, max(PAGE, count // 20))
    while walked + step <= count * 0.9:
        body = client.get(f"/api/v1/tasks?page_size={step}{'&cursor=' + cursor if cursor else ''}", headers=headers)
        items = body.get_json()["items"]
        cursor, walked = body.get_json()["next"], walked + len(items)
        deep_after = items[-1]
    assert cursor is not None and deep_after is not None
    engine = ctx.engine
    with transaction(ctx.sessions) as session:
        first_task = session.scalars(select(UserTask).order_by(UserTask.created_at, UserTask.id)).first()
        assert first_task is not None
        origin = (first_task.created_at - timedelta(seconds=1), "")
        deep_origin = (session.get(UserTask, deep_after["id"]).created_at, deep_after["id"])  # type: ignore[union-attr]

    def params(after: tuple[Any, str]) -> dict[str, Any]:
        return {"after_at": after[0], "after_id": after[1], "grp": GROUP, "n": PAGE + 1}

    def plain(after: tuple[Any, str]) -> Callable[[], Any]:
        def run() -> Any:
            with engine.connect() as conn:
                return conn.execute(PLAIN, params(after)).fetchall()

        return run

    for name, cursor_of_page, after in (("first page", None, origin), ("deep page", cursor, deep_origin)):
        size = len(page(cursor_of_page).data)
        api50, api95 = times(lambda c=cursor_of_page: page(c), repeats=REPEATS)  # type: ignore[misc]
        sql50, sql95 = times(plain(after), repeats=REPEATS)
        floor50, floor95 = times(floor_page(engine, PLAIN, params(after)), repeats=REPEATS)
        print(
            f"  {count:>6} open tasks, {name:<10}: GET /tasks p50 {api50:6.2f} ms p95 {api95:6.2f} ms, "
            f"{size / 1024:5.1f} KiB; the floor's page p50 {floor50:5.2f} ms p95 {floor95:5.2f} ms "
            f"(x{api50 / floor50:.2f}, x{api95 / floor95:.2f}); plain SQL p50 {sql50:5.2f} ms p95 {sql95:5.2f} ms "
            f"(x{api50 / sql50:.1f}, x{api95 / sql95:.1f})"
        )
    before, after = rss_over(100, page)
    print(
        f"  {count:>6} open tasks, RSS over 100 pages: {before:.0f} MiB before, "
        f"{after:.0f} MiB after ({after / before:.2f}x)"
    )


def run(url: str | None, *, sizes: tuple[int, ...] = SIZES) -> None:
    """Fill the inbox to each size in turn and time its pages."""
    logging.getLogger("orchestrator.access").setLevel(logging.WARNING)  # a line per request would be the cost
    print(f"inbox benchmark on {label(url)}: pages of {PAGE}, {REPEATS} requests each")
    ctx = prepared(url)
    filled = 0
    for count in sizes:
        _fill(ctx, count - filled)
        filled = count
        if ctx.engine.dialect.name == "postgresql":
            with ctx.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        _measure(ctx, count)
