"""Process owners move a ticket's token to another element (Camunda's instance modification): past a step that keeps
failing, resolving its incident, or forward from a parked job; the history keeps before and after; what cannot be
moved is refused, never a 500."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.db import transaction
from service.jobs.models import CANCELLED_JOB, DONE, Job
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.diagrams import insert_step, ticket_xml

CLARIFY = {"description": "Controller B failed", "severity": "high", "category": "hardware"}
BROKEN = (
    '<bpmn:scriptTask id="check" name="Check" scriptFormat="python">'
    "<bpmn:script>x = 1 / 0</bpmn:script></bpmn:scriptTask>"
)


def _move(api: Api, number: str, *, as_: str = "owner", **body: Any) -> Any:
    return api.post(f"/tickets/{number}/modification", as_=as_, json=body)


def _events(api: Api, number: str, kind: str) -> list[dict[str, Any]]:
    return [event for event in api.history(number) if event["kind"] == kind]


def test_moving_the_token_past_a_failing_step_resolves_its_incident_and_the_ticket_runs_on(api: Api) -> None:
    deployed = api.post(
        "/process-definitions", as_="owner", data=insert_step(ticket_xml(), after="clarify", step=BROKEN)
    )
    assert deployed.status_code == 201, deployed.get_json()
    number = api.open_ticket()["number"]
    drain(api.ctx)
    task = api.task(number, "clarify", as_="duty")
    failed = api.post(f"/tasks/{task['id']}/complete", as_="duty", json={"data": CLARIFY})
    assert failed.status_code == 409 and failed.get_json()["element"] == "check"
    incident = failed.get_json()["incident"]

    body = {"cancel": ["clarify"], "start_before": "entitlement"}
    assert _move(api, number, as_="duty", **body).status_code == 403
    stopped = _move(api, number, **body)
    assert stopped.status_code == 409 and "resolve_incidents" in stopped.get_json()["detail"]
    assert api.ticket(number)["status"] == "incident"

    moved = _move(api, number, **body, resolve_incidents=True)
    assert moved.status_code == 200, moved.get_json()
    answer = moved.get_json()
    assert answer["before"] == ["clarify"] and answer["resolved_incidents"] == [incident]
    assert answer["after"] and "clarify" not in answer["after"] and "check" not in answer["after"]
    ticket = api.ticket(number)
    assert ticket["status"] != "incident" and ticket["open_incidents"] == []
    assert api.get("/incidents", as_="manager").get_json()["items"] == []
    [event] = _events(api, number, "instance_modified")
    assert event["actor"] == "owner" and event["detail"]["before"] == ["clarify"]
    assert event["detail"]["after"] == answer["after"] and event["detail"]["start_before"] == "entitlement"
    [resolved] = _events(api, number, "incident_resolved")
    assert resolved["detail"]["incident"] == incident and resolved["detail"]["how"] == "modification"
    assert [t["name"] for t in api.ticket(number)["open_tasks"]] != ["clarify"]


def test_moving_forward_from_a_parked_job_ends_the_job_and_moving_back_runs_a_step_again(api: Api) -> None:
    number = api.open_ticket()["number"]  # the token waits at create_folder, its job pending
    moved = _move(api, number, cancel=["create_folder"], start_before="clarify")
    assert moved.status_code == 200, moved.get_json()
    assert (moved.get_json()["before"], moved.get_json()["after"]) == (["create_folder"], ["clarify"])
    with transaction(api.ctx.sessions) as session:
        [job] = session.scalars(select(Job).join(Job.ticket).where(Job.element_id == "create_folder")).all()
        assert (job.status, job.result, job.effect_done) == (DONE, CANCELLED_JOB, False)
    assert drain(api.ctx) == 0  # no worker takes the cancelled job
    assert api.task(number, "clarify", as_="duty")["name"] == "clarify"

    back = _move(api, number, cancel=["clarify"], start_before="notify_duty_officers")
    assert back.status_code == 200, back.get_json()
    assert back.get_json()["after"] == ["notify_duty_officers"]
    assert api.ticket(number)["open_tasks"] == []  # the clarify task was cancelled
    drain(api.ctx)
    assert api.task(number, "clarify", as_="duty")["name"] == "clarify"
    assert [e["detail"]["topic"] for e in _events(api, number, "job_done")] == ["notify.duty_officers"]


def test_what_cannot_be_moved_is_refused(api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    cases = [
        ({"cancel": ["clarify"], "start_before": "nowhere"}, "start_before", "no element nowhere"),
        ({"cancel": ["clarify"], "start_before": "start"}, "start_before", "cannot hold a token"),
        ({"cancel": ["resolve"], "start_before": "clarify"}, "cancel", "no token at resolve"),
    ]
    for body, field, text in cases:
        refused = _move(api, number, **body)
        assert refused.status_code == 422, (body, refused.get_json())
        assert text in refused.get_json()["errors"][field][0]
    assert _move(api, number, cancel=[], start_before="clarify").status_code == 422
    assert _move(api, "SD-999999", cancel=["clarify"], start_before="clarify").status_code == 404
    assert _events(api, number, "instance_modified") == []

    ended = _move(api, number, cancel=["clarify"], start_before="end_declined")
    assert ended.status_code == 200 and ended.get_json()["after"] == []
    again = _move(api, number, cancel=["clarify"], start_before="clarify")
    assert again.status_code == 409 and "has ended" in again.get_json()["detail"]
