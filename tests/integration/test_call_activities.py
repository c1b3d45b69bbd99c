"""Call activities through the API and the worker: the ticket flow calling a process deployed on its own, whose user
task, job and timer run inside the ticket, and the variables `camunda:in` / `camunda:out` pass."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from service.db import transaction
from service.deploy import deploy_all
from service.processes.models import ProcessInstance
from service.tickets.models import Ticket
from service.timers.firing import run_due_timer
from service.timers.models import DueTimer
from service.worker import drain
from tests.conftest import ROOT
from tests.integration.conftest import Api
from tests.support.diagrams import insert_step, ticket_xml

XML = {"Content-Type": "application/xml"}
DIAGRAMS = Path(__file__).parent / "diagrams"
SURVEY = (DIAGRAMS / "site_survey.bpmn").read_bytes()


def caller(binding: str = "") -> bytes:
    """The shipped flow calling the site survey after the duty officers are notified."""
    step = (DIAGRAMS / "call_survey_step.xml").read_text().replace("{binding}", binding)
    return insert_step(ticket_xml(), after="notify_duty_officers", step=step)


def deploy(api: Api, xml: bytes) -> Any:
    return api.post("/process-definitions", as_="owner", data=xml, headers=XML)


def variables(api: Api, number: str) -> dict[str, Any]:
    """The ticket instance's variables, read from its stored document."""
    with transaction(api.ctx.sessions) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.ticket_id == ticket.id))
        assert instance is not None
        _, definition = api.ctx.definitions.by_id(session, definition_id=instance.definition_id)
        return definition.restore(instance.document, decide=lambda *_: None).data


def finish_survey(api: Api, number: str) -> None:
    """Do the survey's visit, and fire its timer at its moment: the ticket goes back to its own flow."""
    drain(api.ctx)
    api.complete(number, "survey_visit", {"finding": "ok"}, as_="duty")
    with transaction(api.ctx.sessions) as session:
        ticket = session.scalar(select(Ticket.id).where(Ticket.number == number))
        [due] = session.scalars(select(DueTimer.due_at).where(DueTimer.ticket_id == ticket)).all()
    run_due_timer(api.ctx, now=due)
    drain(api.ctx)


def open_tasks(api: Api, number: str) -> list[str]:
    return [task["name"] for task in api.ticket(number)["open_tasks"]]


def test_the_ticket_runs_the_called_process_tasks_jobs_and_timers_and_gets_its_variables(api: Api) -> None:
    assert deploy(api, SURVEY).status_code == 201
    created = deploy(api, caller())
    assert created.status_code == 201, created.get_json()
    number = api.open_ticket(summary="Fans loud", severity="high")["number"]
    drain(api.ctx)
    assert open_tasks(api, number) == ["survey_visit"]
    task = api.task(number, "survey_visit", as_="duty")  # in the duty officers' inbox, with its form
    assert [field["id"] for field in task["form"]] == ["finding"]
    inside = variables(api, number)
    assert (inside["subject"], inside["urgent"], inside["had_client"]) == ("Fans loud", True, False)
    api.complete(number, "survey_visit", {"finding": "fan 2 worn"}, as_="duty")  # the worker runs the job
    done = [event["detail"]["topic"] for event in api.history(number) if event["kind"] == "job_done"]
    assert done.count("notify.duty_officers") == 2  # the ticket's own, and the called process's
    with transaction(api.ctx.sessions) as session:
        [timer] = session.scalars(select(DueTimer).where(DueTimer.element_id == "survey_cool_down")).all()
        due = timer.due_at
    assert open_tasks(api, number) == []
    run_due_timer(api.ctx, now=due)
    drain(api.ctx)
    assert open_tasks(api, number) == ["clarify"]
    after = variables(api, number)
    assert (after["survey_finding"], after["survey_score"], after["client_seen"]) == ("fan 2 worn", 20, False)
    assert "subject" not in after and "finding" not in after and after["summary"] == "Fans loud"


def test_latest_is_the_newest_version_at_the_callers_deployment_and_redeploying_picks_up_a_new_one(api: Api) -> None:
    assert deploy(api, SURVEY).status_code == 201
    first = deploy(api, caller()).get_json()
    assert deploy(api, caller()).status_code == 200  # nothing new deployed: the same version
    scored = SURVEY.replace(b"score = 2 if urgent else 1", b"score = 5 if urgent else 1")
    assert deploy(api, scored).get_json()["version"] == 2
    number = api.open_ticket()["number"]  # still bound to the first survey version
    second = deploy(api, caller())  # the same diagram, bound now to survey version 2: a new version
    assert second.status_code == 201 and second.get_json()["version"] == first["version"] + 1
    later = api.open_ticket()["number"]
    for ticket in (number, later):
        finish_survey(api, ticket)
    assert (variables(api, number)["survey_score"], variables(api, later)["survey_score"]) == (20, 50)


def test_binding_version_calls_that_version(api: Api) -> None:
    assert deploy(api, SURVEY).status_code == 201
    assert deploy(api, SURVEY.replace(b"score = 2 if", b"score = 7 if")).status_code == 201
    binding = 'camunda:calledElementBinding="version" camunda:calledElementVersion="1"'
    assert deploy(api, caller(binding)).status_code == 201
    number = api.open_ticket()["number"]
    finish_survey(api, number)
    assert variables(api, number)["survey_score"] == 20


@pytest.mark.parametrize(
    ("survey", "binding", "words"),
    [
        (False, "", "calledElement 'site_survey' names no deployed process"),
        (True, 'camunda:calledElementBinding="version" camunda:calledElementVersion="4"', "has no version 4"),
        (True, 'camunda:calledElementBinding="deployment"', "was not deployed together with this diagram"),
    ],
)
def test_a_call_to_nothing_deployed_is_refused_naming_the_element_and_line(
    api: Api, survey: bool, binding: str, words: str
) -> None:
    if survey:
        assert deploy(api, SURVEY).status_code == 201
    refused = deploy(api, caller(binding))
    assert refused.status_code == 422, refused.get_json()
    [problem] = refused.get_json()["problems"]
    assert problem["element"] == "call_site_survey" and words in problem["detail"]
    line = caller(binding).decode().splitlines()[problem["line"] - 1]
    assert 'id="call_site_survey"' in line


def test_every_problem_of_the_calls_is_told_at_once(api: Api) -> None:
    step = (
        caller()
        .decode()
        .replace('calledElement="site_survey"', 'calledElement="site_survey" camunda:calledElementBinding="x"')
    )
    xml = insert_step(step.encode(), after="start", step='<bpmn:callActivity id="call_nothing" calledElement="gone" />')
    refused = deploy(api, xml)
    assert refused.status_code == 422, refused.get_json()
    problems = {problem["element"]: problem["detail"] for problem in refused.get_json()["problems"]}
    assert "names no deployed process" in problems["call_nothing"]
    assert "unknown camunda:calledElementBinding 'x'" in problems["call_site_survey"]


def test_orchestrator_deploy_binds_deployment_to_the_version_of_the_same_run(api: Api, tmp_path: Path) -> None:
    processes = tmp_path / "processes"
    processes.mkdir()
    (processes / "a_ticket.bpmn").write_bytes(caller('camunda:calledElementBinding="deployment"'))
    (processes / "site_survey.bpmn").write_bytes(SURVEY)
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    lines = deploy_all(api.ctx, rules_dir=str(rules), processes_dir=str(processes), actor="test")
    outcomes = {Path(line.path).name: line.outcome for line in lines if line.path.endswith(".bpmn")}
    assert list(outcomes) == ["site_survey.bpmn", "a_ticket.bpmn"]  # the called one first
    assert outcomes == {"site_survey.bpmn": "new version 1", "a_ticket.bpmn": "new version 2"}
    again = deploy_all(api.ctx, rules_dir=str(rules), processes_dir=str(processes), actor="test")
    assert [line.outcome for line in again if line.path.endswith(".bpmn")] == [
        "unchanged (version 1)",
        "unchanged (version 2)",
    ]
    number = api.open_ticket()["number"]
    drain(api.ctx)
    assert open_tasks(api, number) == ["survey_visit"]
