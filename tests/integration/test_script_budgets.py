"""A script past its budget becomes an incident of its ticket, over HTTP and in the worker; hung jobs end too."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.db import transaction, utcnow
from service.jobs.models import FAILED, PENDING, RUNNING, Job
from service.worker import drain, run_one_job
from tests.integration.conftest import Api
from tests.support.diagrams import insert_step, ticket_xml

XML = {"Content-Type": "application/xml"}
#: A script that makes almost nothing and would spin for a minute or more.
SPIN = (
    '<bpmn:scriptTask id="spin" name="Spin" scriptFormat="python"><bpmn:script>n = 0\n'
    "for a in [0] * 300:\n  for b in [0] * 300:\n    for c in [0] * 300:\n      n = n + 1"
    "</bpmn:script></bpmn:scriptTask>"
)


def deploy_spinning(api: Api, *, after: str) -> None:
    response = api.post("/process-definitions", as_="owner", data=insert_step(ticket_xml(), after=after, step=SPIN))
    assert response.status_code == 201, response.get_json()


def small_budget(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.ctx, "config", dataclasses.replace(api.ctx.config, script_cpu_seconds=0.05))


def history(api: Api, number: str) -> list[dict]:  # type: ignore[type-arg]
    return api.history(number, as_="admin")


def test_a_completion_whose_next_script_blows_the_budget_is_a_clear_problem_and_an_incident(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy_spinning(api, after="clarify")
    number = api.open_ticket()["number"]
    drain(api.ctx)
    small_budget(api, monkeypatch)
    task = api.task(number, "clarify", as_="duty")
    response = api.post(f"/tasks/{task['id']}/complete", as_="duty", json={"data": {"description": "d"}})
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["title"] == "Process failed" and problem["element"] == "spin" and problem["budget"] is True
    assert problem["incident"] == api.get("/incidents", as_="manager").get_json()["items"][0]["id"]
    assert "CPU budget of 0.05 s" in problem["detail"] and "line 4 of the script" in problem["detail"]
    assert api.task(number, "clarify", as_="duty")["id"] == task["id"]  # the task stays open: nothing lost
    [incident] = [event for event in history(api, number) if event["kind"] == "incident"]
    assert incident["actor"] == "duty" and incident["detail"]["element"] == "spin"
    assert "CPU budget" in incident["detail"]["error"]
    assert "task_completed" not in [event["kind"] for event in history(api, number)]


def test_a_job_whose_step_blows_the_budget_becomes_an_incident_without_retries(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy_spinning(api, after="create_folder")
    number = api.open_ticket()["number"]
    small_budget(api, monkeypatch)
    drain(api.ctx)
    incidents = api.get("/incidents", as_="manager").get_json()["items"]
    assert [(i["topic"], i["attempts"]) for i in incidents] == [("files.create_folder", 1)]
    assert "CPU budget" in incidents[0]["last_error"]
    [incident] = [event for event in history(api, number) if event["kind"] == "incident"]
    assert incident["detail"]["topic"] == "files.create_folder" and incident["detail"]["element"] == "spin"
    assert (incident["detail"]["job"], incident["detail"]["incident"]) == (incidents[0]["job"], incidents[0]["id"])


def _lease_ran_out(api: Api, *, attempts: int) -> int:
    with transaction(api.ctx.sessions) as session:
        [job] = session.scalars(select(Job).where(Job.topic == "files.create_folder"))
        job.status, job.attempts = RUNNING, attempts
        job.locked_by, job.locked_until = "a-worker-that-died", utcnow() - timedelta(hours=1)
        return job.id


def test_a_job_whose_leases_ran_out_past_its_attempts_becomes_an_incident_not_a_new_run(api: Api) -> None:
    number = api.open_ticket()["number"]
    job_id = _lease_ran_out(api, attempts=api.ctx.config.job_max_attempts)
    assert run_one_job(api.ctx) is None  # nothing else is due: the hung job is not taken again
    with api.ctx.sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert (job.status, job.attempts, job.locked_until) == (FAILED, api.ctx.config.job_max_attempts, None)
        assert "lease expired" in (job.last_error or "")
    [incident] = [event for event in history(api, number) if event["kind"] == "incident"]
    assert incident["detail"]["job"] == job_id and "lease expired" in incident["detail"]["error"]
    assert [i["job"] for i in api.get("/incidents", as_="manager").get_json()["items"]] == [job_id]


def test_a_job_whose_lease_ran_out_with_attempts_left_runs_again(api: Api) -> None:
    api.open_ticket()
    job_id = _lease_ran_out(api, attempts=api.ctx.config.job_max_attempts - 1)
    outcome = run_one_job(api.ctx)
    assert outcome is not None and outcome.job_id == job_id and outcome.error is None
    with api.ctx.sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.attempts == api.ctx.config.job_max_attempts and job.status != PENDING
