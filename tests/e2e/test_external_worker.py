"""An outside worker as a real process: a partner's script fetches the ticket's task over HTTP from gunicorn,
completes it with variables, and the ticket moves on; the service's own worker never touched the task."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import Stack
from tests.integration.test_external_tasks import TOPIC, partner_diagram
from tests.integration.test_request_ids import TICKET

pytestmark = pytest.mark.e2e
WORKER = ROOT / "tests" / "support" / "outside_worker.py"


@pytest.fixture
def external_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack's processes are configured to leave the partner's topic to outside workers."""
    monkeypatch.setenv("ORCHESTRATOR_EXTERNAL_TOPICS", TOPIC)


def test_an_outside_worker_completes_the_task_and_the_ticket_moves_on(external_topics: None, stack: Stack) -> None:
    deployed = stack.call(
        "POST",
        "/process-definitions?filename=ticket.bpmn",
        as_="owner",
        data=partner_diagram().encode(),
        headers={"Content-Type": "application/xml"},
    )
    assert deployed.status_code == 201, deployed.text
    subprocess.run(
        [sys.executable, "-m", "service.cli", "user", "create", "partner", "--role", "worker", "--topic", TOPIC],
        cwd=ROOT,
        env=stack.env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    number = stack.call("POST", "/tickets", as_="duty", json=TICKET).json()["number"]
    opened = stack.wait_for(number, lambda ticket: ticket["folder_url"])  # the service's own jobs ran
    assert opened["status"] == "new"  # and the flow waits for the partner

    worker = subprocess.run(
        [sys.executable, str(WORKER), stack.base, "--topic", TOPIC, "--worker-id", "partner-1", "--tasks", "1"],
        cwd=ROOT,
        env={**stack.env, "ORCHESTRATOR_WORKER_TOKEN": stack.token("partner")},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert worker.returncode == 0, worker.stderr
    assert f"of {number}" in worker.stdout

    stack.wait_for(number, lambda ticket: ticket["status"] == "clarifying")
    history = stack.call("GET", f"/tickets/{number}/history?page_size=200", as_="admin").json()["items"]
    [done] = [event for event in history if event["kind"] == "job_done" and event["detail"]["topic"] == TOPIC]
    assert done["actor"] == "partner"
    assert done["detail"]["result"] == {"partner_ref": f"P-{number}", "partner_saw_folder": True}
