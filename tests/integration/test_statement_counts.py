"""The number of SQL statements a step sends, counted as `python -m bench steps` counts them: it must not grow back."""

from __future__ import annotations

from bench.steps import counting
from service.worker import drain
from tests.integration.conftest import Api

#: A clarify completion: the caller's token with its user and groups (one query, not cached, so that a deactivated
#: user is refused at their next request); the instance lock (PostgreSQL; SQLite's BEGIN IMMEDIATE instead); then,
#: under it, the task with its instance, ticket, client, contracts and candidates, the instance's open tasks and the
#: ticket's SLA timeline with its clocks (one query); the instance; the decision; the ended and the new task (one
#: statement) and the new one's group; the ticket; the closed and the opened segment (one statement); the clocks;
#: the step's history (decision, status change, completion: one statement).
CLARIFY_STATEMENTS = 11


def _clarify_task(api: Api, number: str) -> str:
    return next(task["id"] for task in api.ticket(number)["open_tasks"] if task["name"] == "clarify")


def test_a_clarify_completion_sends_at_most_its_statements(api: Api) -> None:
    api.ctx.rules.refresh_seconds = 60.0  # as in service: the active rule versions are looked up once a second
    first, second = api.open_ticket()["number"], api.open_ticket()["number"]
    drain(api.ctx)
    warm = _clarify_task(api, first)  # the first completion fills the process's caches (versions, rules, levels)
    assert api.post(f"/tasks/{warm}/complete", as_="duty", json={"data": {"description": "x"}}).status_code == 200
    task_id = _clarify_task(api, second)
    with counting() as seen:
        done = api.post(f"/tasks/{task_id}/complete", as_="duty", json={"data": {"description": "Controller B"}})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "in_progress"
    assert seen.total <= CLARIFY_STATEMENTS, "\n".join(seen.texts)
