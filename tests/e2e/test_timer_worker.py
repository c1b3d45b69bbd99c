"""A timer through the real worker process: a boundary timer on `clarify` fires once and moves the ticket on."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import Stack
from tests.support.tickets import DEMO_TICKET
from tests.support.timers import with_boundary

pytestmark = pytest.mark.e2e


def _kinds(stack: Stack, number: str) -> list[str]:
    history = stack.call("GET", f"/tickets/{number}/history?page_size=200", as_="admin").json()["items"]
    return [event["kind"] for event in history]


def test_the_worker_fires_a_boundary_timer_once(stack: Stack) -> None:
    xml = with_boundary(interrupting=True, duration="PT3S")
    stack.deploy(xml)
    response = stack.call("POST", "/tickets", as_="duty", json=DEMO_TICKET)
    assert response.status_code == 201, response.text
    number = response.json()["number"]
    assert stack.call("GET", f"/tickets/{number}", as_="admin").json()["process_version"] == 2
    stack.wait_for(number, lambda t: [task["name"] for task in t["open_tasks"]] == ["clarify_late"])
    time.sleep(1.0)  # a second firing, were there one, would have had the time to happen
    assert _kinds(stack, number).count("timer_fired") == 1
