"""The inbox: keyset pages of lean tasks, filters, and cursors that a client cannot turn into a server error."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import event, select, update

from service.auth.models import Caller, User
from service.db import transaction
from service.sla.models import BreachReview, SlaEvent
from service.tasks import inbox
from service.tasks.models import OPEN, UserTask
from service.tickets.models import Ticket
from service.worker import drain
from tests.integration.conftest import Api

SOON = datetime(2030, 1, 1, tzinfo=timezone.utc)


def _walk(api: Api, query: str, *, as_: str, between: Any = None) -> list[dict[str, Any]]:
    """Every item of every page, calling `between(page_number)` after each page."""
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for page_number in range(200):
        path = f"/tasks?{query}" + (f"&cursor={cursor}" if cursor else "")
        response = api.get(path, as_=as_)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        seen += body["items"]
        cursor = body["next"]
        if cursor is None:
            return seen
        if between is not None:
            between(page_number)
    raise AssertionError("the pages never ended")


def _open(api: Api, count: int, **fields: Any) -> list[str]:
    """Open tickets and let the worker run their first jobs, so their first task is waiting."""
    numbers = [api.open_ticket(**fields)["number"] for _ in range(count)]
    drain(api.ctx)
    return numbers


def _open_tasks(api: Api) -> set[str]:
    with transaction(api.ctx.sessions) as session:
        return set(session.scalars(select(UserTask.id).where(UserTask.state == OPEN)))


def _set_due(api: Api, numbers: list[str], due: datetime, column: str = "due_at") -> None:
    """Give the tasks of these tickets a due time (as a dueDate in the diagram would), or one creation time."""
    with transaction(api.ctx.sessions) as session:
        ids = select(Ticket.id).where(Ticket.number.in_(numbers))
        session.execute(update(UserTask).where(UserTask.ticket_id.in_(ids)).values({column: due}))


@pytest.mark.parametrize("sort", ["created", "due"])
def test_paging_never_skips_or_repeats_a_task_while_tasks_come_and_go(api: Api, sort: str) -> None:
    numbers = _open(api, 9)
    # by due time: some tasks have one (three share it, so a page ends inside the tie), the others come last
    _set_due(api, numbers[:2], SOON)
    _set_due(api, numbers[2:5], SOON - timedelta(hours=1))
    # by creation: three tasks made in the same instant, so there too the id breaks the tie
    _set_due(api, numbers[:3], datetime(2026, 1, 1, tzinfo=timezone.utc), column="created_at")
    before = _open_tasks(api)
    completed: set[str] = set()

    def churn(page_number: int) -> None:
        _open(api, 1, summary=f"New during page {page_number}")
        victim = numbers[-1 - page_number] if page_number < 4 else None
        if victim is not None:
            task = api.task(victim, "clarify", as_="duty")
            api.complete(victim, "clarify", {"description": "d"}, as_="duty")
            completed.add(task["id"])

    seen = _walk(api, f"sort={sort}&page_size=2&queue=duty", as_="duty", between=churn)
    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)), "a task appeared on two pages"
    # every task open from the first page to the last was seen; completed ones may or may not have been
    assert before - completed <= set(ids)
    keys = [(item["due_at"] is None, item["due_at"] or "", item["id"]) for item in seen]
    if sort == "created":
        keys = [(False, item["created_at"], item["id"]) for item in seen]
    assert keys == sorted(keys)


def test_breach_reviews_are_paged_with_the_tasks_for_managers(api: Api) -> None:
    numbers = _open(api, 3)
    with transaction(api.ctx.sessions) as session:
        for ticket in session.scalars(select(Ticket).where(Ticket.number.in_(numbers))):
            sla_event = SlaEvent(ticket_id=ticket.id, clock="resolution", kind="test-breach", due_at=SOON)
            session.add(sla_event)
            session.flush()
            session.add(BreachReview(ticket_id=ticket.id, event_id=sla_event.id, clock="resolution", due_at=SOON))
    everything = _open_tasks(api) | {item["id"] for item in _walk(api, "name=breach_review", as_="manager")}
    assert len(everything) == 6
    for sort in ("created", "due"):
        seen = [item["id"] for item in _walk(api, f"sort={sort}&page_size=2", as_="manager")]
        assert sorted(seen) == sorted(everything)
    review = _walk(api, "name=breach_review&queue=managers&page_size=1", as_="manager")[0]
    assert review["candidate_groups"] == ["managers"] and review["title"].startswith("Why was the resolution")
    assert _walk(api, "name=breach_review", as_="duty") == []
    assert _walk(api, "name=breach_review&queue=duty", as_="manager") == []


def test_filters_narrow_the_inbox(api: Api) -> None:
    [low] = _open(api, 1, severity="low", summary="Fan noise")
    [high] = _open(api, 1, severity="high")
    api.complete(high, "clarify", {"description": "d"}, as_="duty")
    _set_due(api, [low], SOON)
    clarify = _walk(api, "name=clarify", as_="admin")
    assert [item["ticket"] for item in clarify] == [low]
    assert clarify[0]["ticket_summary"] == "Fan noise" and clarify[0]["severity"] == "low"
    assert clarify[0]["candidate_groups"] == ["duty"] and "form" not in clarify[0]
    assert {item["ticket"] for item in _walk(api, "severity=high", as_="admin")} == {high}
    assert {item["ticket"] for item in _walk(api, f"ticket={low}", as_="admin")} == {low}
    assert {item["ticket"] for item in _walk(api, "queue=duty", as_="admin")} == {low}
    assert _walk(api, "queue=duty", as_="storage.l1") == []
    before = quote((SOON + timedelta(minutes=1)).isoformat())
    assert [item["ticket"] for item in _walk(api, f"due_before={before}", as_="admin")] == [low]
    assert _walk(api, f"due_before={quote(SOON.isoformat())}", as_="admin") == []


def _cursor(body: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "bm90IGpzb24",  # "not json"
        _cursor([1, 2, 3]),
        _cursor({"s": "created", "k": "2026-01-01T00:00:00+00:00"}),
        _cursor({"s": "priority", "k": None, "i": "x"}),
        _cursor({"s": "created", "k": None, "i": "x"}),
        _cursor({"s": "created", "k": "2026-01-01T00:00:00", "i": "x"}),
        _cursor({"s": "created", "k": "yesterday", "i": "x"}),
        _cursor({"s": "created", "k": 17, "i": "x"}),
        _cursor({"s": "created", "k": "2026-01-01T00:00:00+00:00", "i": "a\u0000b"}),
        _cursor({"s": "created", "k": "2026-01-01T00:00:00+00:00", "i": ["x"]}),
        _cursor({"s": "due", "k": None, "i": "x"}),  # made for another sort than the one asked for
        "A" * 401,
    ],
)
def test_a_tampered_cursor_is_refused_with_422(api: Api, cursor: str) -> None:
    response = api.get(f"/tasks?sort=created&cursor={cursor}", as_="duty")
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json" and "cursor" in json.dumps(response.get_json())


def test_the_page_size_sets_the_response_size(api: Api) -> None:
    _open(api, 5)
    first = api.get("/tasks?page_size=2", as_="duty")
    assert len(first.get_json()["items"]) == 2 and first.get_json()["next"]
    _open(api, 5)
    again = api.get("/tasks?page_size=2", as_="duty")
    assert [item["id"] for item in again.get_json()["items"]] == [item["id"] for item in first.get_json()["items"]]
    assert abs(len(again.data) - len(first.data)) <= 2  # twice the open tasks, the same bytes (the SLA seconds tick)
    assert len(api.get("/tasks", as_="duty").get_json()["items"]) == 10
    assert api.get("/tasks?page_size=501", as_="duty").status_code == 422
    assert api.get("/tasks?page_size=0", as_="duty").status_code == 422


def test_a_page_is_one_query_of_columns(api: Api) -> None:
    _open(api, 4)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    with transaction(api.ctx.sessions) as session:
        duty = Caller.of(session.scalars(select(User).where(User.username == "duty")).one())
        session.expunge_all()
        event.listen(api.ctx.engine, "before_cursor_execute", count)
        try:
            page = inbox.list_page(session, user=duty, where=inbox.TaskFilter(), page_size=3)
        finally:
            event.remove(api.ctx.engine, "before_cursor_execute", count)
    assert len(page.items) == 3 and page.next is not None
    assert len(statements) == 1, statements
    assert "user_task.form" not in statements[0]  # the form is not read for a list


def test_a_task_assigned_to_someone_is_in_their_inbox_once_whatever_their_groups(api: Api) -> None:
    first, second, third = _open(api, 3)
    with transaction(api.ctx.sessions) as session:
        for number, assignee in ((first, "storage.l1"), (second, "duty")):
            ticket = select(Ticket.id).where(Ticket.number == number).scalar_subquery()
            session.execute(update(UserTask).where(UserTask.ticket_id == ticket).values(assignee=assignee))
    assert [item["ticket"] for item in _walk(api, "page_size=1", as_="storage.l1")] == [first]
    for size in (1, 5):  # the one assigned to duty, and in duty's queue, once
        assert [item["ticket"] for item in _walk(api, f"page_size={size}", as_="duty")] == [first, second, third]
