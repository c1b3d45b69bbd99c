"""The engine's constructs through gunicorn and the worker as real processes: a call activity whose task, job and
timer run inside the ticket, and a process beside the ticket flow started by its timer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.support.diagrams import insert_step, ticket_xml
from tests.support.starts import cycle, side_process
from tests.support.tickets import DEMO_TICKET

pytestmark = pytest.mark.e2e

DIAGRAMS = Path(__file__).parents[1] / "integration" / "diagrams"


def _kinds(stack: Stack, number: str) -> list[str]:
    history = stack.call("GET", f"/tickets/{number}/history?page_size=200", as_="admin").json()["items"]
    return [event["kind"] for event in history]


def test_a_called_process_runs_its_task_job_and_timer_inside_the_ticket(stack: Stack) -> None:
    stack.deploy((DIAGRAMS / "site_survey.bpmn").read_bytes().replace(b"PT1H", b"PT2S"))
    step = (DIAGRAMS / "call_survey_step.xml").read_text().replace("{binding}", "")
    stack.deploy(insert_step(ticket_xml(), after="notify_duty_officers", step=step))
    response = stack.call("POST", "/tickets", as_="duty", json=DEMO_TICKET)
    assert response.status_code == 201, response.text
    number = response.json()["number"]
    stack.complete(number, "survey_visit", {"finding": "fans replaced"}, as_="duty")
    # the called process's job runs, its timer fires in the worker two seconds on, and the ticket's flow goes on
    stack.wait_for(number, lambda t: [task["name"] for task in t["open_tasks"]] == ["clarify"])
    kinds = _kinds(stack, number)
    assert kinds.count("timer_fired") == 1
    assert kinds.count("job_done") == 4  # the folder, two mails of the opening, and the survey's notice


def _instances(stack: Stack, key: str) -> list[dict[str, Any]]:
    response = stack.call("GET", f"/process-instances?key={key}&page_size=100", as_="owner")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_process_beside_the_ticket_flow_is_started_by_its_timer_and_its_job_run(stack: Stack) -> None:
    stack.deploy(side_process("side-task", start=cycle("R2/PT1S")))
    deadline = time.monotonic() + 30
    while len(done := [i for i in _instances(stack, "side-task") if i["state"] == "completed"]) < 2:
        assert time.monotonic() < deadline, _instances(stack, "side-task")
        time.sleep(0.2)
    time.sleep(1.5)  # a third start, were there one, would have had the time to happen
    instances = _instances(stack, "side-task")
    assert len(instances) == 2 and {i["started_by"] for i in instances} == {"timer"}
    assert {i["ticket"] for i in done} == {None}
