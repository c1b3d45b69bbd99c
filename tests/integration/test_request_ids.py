"""Request ids: taken (when safe) or made, echoed back, carried into the jobs, the mails and the worker's log lines."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from service.app import create_app
from service.jobs.models import Job
from service.logs import configure_logging
from service.observability import request_id
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.smtp import SmtpTestServer

FRESH = re.compile(r"[0-9a-f]{32}")
TICKET = {
    "client": "NORD-BANK",
    "contact_email": "it@nord-bank.example",
    "equipment_serial": "IBM-FS5200-0001",
    "channel": "portal",
    "summary": "Disk array degraded",
    "severity": "high",
    "category": "hardware",
}


def test_a_safe_offered_id_is_echoed_back(api: Api) -> None:
    response = api.get("/tasks", as_="duty", headers={"X-Request-ID": "edge-7f3a.2:b_c"})
    assert response.headers["X-Request-ID"] == "edge-7f3a.2:b_c"


@pytest.mark.parametrize(
    "offered",
    ["", "x" * 65, "has space", "semi;colon", "-leading-dash", "ünïcode", "a\u2028b", "<script>"],
)
def test_an_unsafe_offered_id_is_replaced_by_a_fresh_one(api: Api, offered: str) -> None:
    response = api.get("/tasks", as_="duty", headers={"X-Request-ID": offered})
    assert FRESH.fullmatch(response.headers["X-Request-ID"])


def test_every_answer_carries_a_fresh_id_when_none_is_offered(api: Api) -> None:
    ids = {api.client.get(path).headers["X-Request-ID"] for path in ("/api/v1/health", "/api/v1/tickets", "/nowhere")}
    assert len(ids) == 3 and all(FRESH.fullmatch(found) for found in ids)


def test_the_id_goes_into_the_jobs_their_mails_and_the_worker_log(
    api: Api, smtp_server: SmtpTestServer, capsys: pytest.CaptureFixture[str]
) -> None:
    headers = {"X-Request-ID": "probe-4711"}
    response = api.post("/tickets", as_="duty", json=TICKET, headers=headers)
    assert response.status_code == 201 and response.headers["X-Request-ID"] == "probe-4711"
    number = response.get_json()["number"]
    other = api.post("/tickets", as_="duty", json=TICKET, headers={"X-Request-ID": "other-1"})
    assert other.status_code == 201
    configure_logging("INFO", "json")
    capsys.readouterr()
    drain(api.ctx)
    assert request_id.current() is None  # the worker's ids stay with its jobs, not with the thread that drained
    with api.ctx.sessions() as session:
        jobs = {job.topic: job for job in session.scalars(select(Job).where(Job.ticket.has(number=number)))}
    # the folder job was made by the request; the two mails by the step that completed the folder job
    assert set(jobs) == {"files.create_folder", "mail.ticket_opened", "notify.duty_officers"}
    assert {job.request_id for job in jobs.values()} == {"probe-4711"}

    mails = [m for m in smtp_server.messages if number in m.subject]
    assert len(mails) == 2
    for mail in mails:
        assert mail.message["X-Request-ID"] == "probe-4711"
        topic = next(
            topic
            for topic, job in jobs.items()
            if mail.message_id == f"<instance-{job.instance_id}.{job.element_id}@orchestrator.example>"
        )
        assert topic.startswith(("mail.", "notify."))

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    done = {line["job"]: line for line in lines if line["logger"] == "orchestrator.worker"}
    for job in jobs.values():
        line = done[job.id]
        assert line["request_id"] == "probe-4711" and line["topic"] == job.topic and line["level"] == "INFO"
    assert {line["request_id"] for line in done.values()} == {"probe-4711", "other-1"}


def test_the_request_log_line_is_json_with_the_route_and_the_id(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    create_app(context=api.ctx)  # configures the logs as the configuration says: json by default
    capsys.readouterr()
    api.get("/tasks", as_="duty", headers={"X-Request-ID": "access-1"})
    [line] = [json.loads(line) for line in capsys.readouterr().err.splitlines() if '"orchestrator.access"' in line]
    assert line["request_id"] == "access-1" and line["route"] == "/api/v1/tasks" and line["status"] == 200
    assert line["message"] == "GET /api/v1/tasks 200" and line["duration_ms"] > 0 and line["time"].endswith("+00:00")
