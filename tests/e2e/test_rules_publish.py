"""Publishing a routing change through the API reaches every gunicorn worker within seconds, without a restart."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.support.rules import storage_hardware_remote
from tests.support.tickets import DEMO_TICKET

pytestmark = pytest.mark.e2e

WORKERS = 3


def _open(stack: Stack) -> str:
    response = stack.call("POST", "/tickets", as_="duty", json=DEMO_TICKET)
    assert response.status_code == 201, response.text
    number: str = response.json()["number"]
    stack.wait_for(number, lambda t: t["status"] == "clarifying")
    return number


def _route(stack: Stack, number: str) -> dict[str, Any]:
    """Complete the ticket's clarify task (routing is decided by the worker that serves this) and read it back."""
    [task] = stack.call("GET", f"/tasks?ticket={number}", as_="duty").json()["items"]
    response = stack.call("POST", f"/tasks/{task['id']}/complete", as_="duty", json={"data": {"description": "x"}})
    assert response.status_code == 200, response.text
    return stack.wait_for(number, lambda t: t["status"] == "in_progress")


def _routing(ticket: dict[str, Any]) -> tuple[int, str, str]:
    [decision] = [d for d in ticket["decisions"] if d["ruleset"] == "routing"]
    return ticket["level"], decision["version"], decision["rule"]


def _open_many(stack: Stack, count: int) -> list[str]:
    """`count` tickets opened in parallel (and waiting at clarify)."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: _open(stack), range(count)))


def _route_many(stack: Stack, numbers: list[str]) -> list[dict[str, Any]]:
    """Route the tickets in parallel, so that every gunicorn worker serves some of them."""
    with ThreadPoolExecutor(max_workers=len(numbers)) as pool:
        return list(pool.map(lambda number: _route(stack, number), numbers))


@pytest.mark.parametrize("stack", [WORKERS], indirect=True)
def test_a_published_routing_change_routes_new_tickets_on_every_worker(stack: Stack) -> None:
    stack.token("duty"), stack.token("admin"), stack.token("analyst")  # issued once, before the threads need them
    before = _route_many(stack, _open_many(stack, WORKERS))  # the workers that routed them hold version 1 now
    assert {_routing(ticket) for ticket in before} == {(1, "1", "storage hardware on site")}
    waiting = _open_many(stack, 2 * WORKERS)

    response = stack.call(
        "PUT",
        "/rulesets/routing",
        as_="analyst",
        data=storage_hardware_remote().encode(),
        headers={"Content-Type": "application/yaml"},
    )
    assert response.status_code == 201, response.text
    time.sleep(1.5)  # each process looks for a new active version every second (ORCHESTRATOR_RULES_REFRESH_SECONDS)

    after = _route_many(stack, waiting)
    assert {_routing(ticket) for ticket in after} == {(2, "2", "storage hardware remote")}
    for ticket in before:  # decided before: their decisions and levels stay
        assert _routing(stack.call("GET", f"/tickets/{ticket['number']}", as_="admin").json()) == (
            1,
            "1",
            "storage hardware on site",
        )
