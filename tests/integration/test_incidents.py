"""A step that fails at run time stops its ticket at an incident (never a 500), kept with the data it was given;
a retry after migrating to a fixed version moves the ticket on; process owners may correct variables first."""

from __future__ import annotations

from typing import Any

from service.worker import drain
from tests.integration.conftest import Api
from tests.support.diagrams import insert_step, ticket_xml

CLARIFY = {"description": "Controller B failed", "severity": "high", "category": "hardware"}


def _script(step_id: str, body: str) -> str:
    task = f'<bpmn:scriptTask id="{step_id}" name="Step" scriptFormat="python">'
    return f"{task}<bpmn:script>{body}</bpmn:script></bpmn:scriptTask>"


def _deploy(api: Api, *, after: str, step: str) -> int:
    response = api.post("/process-definitions", as_="owner", data=insert_step(ticket_xml(), after=after, step=step))
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["version"])


def _migrate(api: Api, number: str, version: int) -> None:
    body = {"target": {"key": "ticket", "version": version}, "tickets": [number], "dry_run": False}
    report = api.post("/migrations", as_="owner", json=body).get_json()
    assert [move["status"] for move in report["results"]] == ["migrated"], report


def _open_incidents(api: Api) -> list[dict[str, Any]]:
    return list(api.get("/incidents", as_="manager").get_json()["items"])


def _kinds(api: Api, number: str) -> list[str]:
    return [event["kind"] for event in api.history(number)]


def test_a_failing_script_after_a_task_stops_the_ticket_and_a_retry_on_a_fixed_version_moves_it_on(api: Api) -> None:
    broken = _deploy(api, after="clarify", step=_script("check", "x = 1 / 0"))
    number = api.open_ticket()["number"]
    drain(api.ctx)
    task = api.task(number, "clarify", as_="duty")
    response = api.post(f"/tasks/{task['id']}/complete", as_="duty", json={"data": CLARIFY})
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["element"] == "check" and problem["version"] == broken and "division by zero" in problem["detail"]
    [incident] = _open_incidents(api)
    assert incident["id"] == problem["incident"] and incident["ticket"] == number
    assert (incident["kind"], incident["element_id"], incident["version"]) == ("complete_task", "check", broken)
    assert incident["detail"]["data"] == CLARIFY and incident["created_by"] == "duty"
    ticket = api.ticket(number)
    assert ticket["status"] == "incident" and [i["id"] for i in ticket["open_incidents"]] == [incident["id"]]
    assert "incident" in _kinds(api, number) and "task_completed" not in _kinds(api, number)
    again = api.post(f"/tasks/{task['id']}/complete", as_="duty", json={"data": CLARIFY})
    assert again.status_code == 409 and "stopped by an incident" in again.get_json()["detail"]

    still_broken = api.post(f"/incidents/{incident['id']}/retry", as_="manager")
    assert still_broken.status_code == 409 and still_broken.get_json()["incident"] == incident["id"]
    assert [i["id"] for i in _open_incidents(api)] == [incident["id"]]
    assert api.ticket(number)["status"] == "incident" and "incident_retry_failed" in _kinds(api, number)

    _migrate(api, number, _deploy(api, after="clarify", step=_script("check", "x = 1")))
    retried = api.post(f"/incidents/{incident['id']}/retry", as_="manager")
    assert retried.status_code == 200, retried.get_json()
    assert (retried.get_json()["state"], retried.get_json()["resolved_by"]) == ("resolved", "manager")
    assert _open_incidents(api) == []
    ticket = api.ticket(number)
    assert ticket["status"] not in ("incident", "clarifying") and ticket["open_incidents"] == []
    [completed] = [event for event in api.history(number) if event["kind"] == "task_completed"]
    assert completed["actor"] == "duty" and completed["detail"]["data"] == CLARIFY  # the kept form, as given
    assert api.post(f"/incidents/{incident['id']}/retry", as_="manager").status_code == 409


def test_a_process_failing_at_intake_still_opens_the_ticket_and_a_retry_starts_it(api: Api) -> None:
    _deploy(api, after="start", step=_script("greet", "y = undefined_name + 1"))
    opened = api.post("/tickets", as_="duty", json=_intake())
    assert opened.status_code == 201, opened.get_json()
    number = opened.get_json()["number"]
    assert opened.get_json()["status"] == "incident"
    [incident] = _open_incidents(api)
    assert (incident["ticket"], incident["kind"], incident["element_id"]) == (number, "start", "greet")
    assert api.ticket(number)["summary"] == "Disk array degraded"  # what the client sent is kept
    _deploy(api, after="start", step=_script("greet", "y = 1"))  # a fixed version: new tickets start on it
    retried = api.post(f"/incidents/{incident['id']}/retry", as_="duty")
    assert retried.status_code == 200, retried.get_json()
    drain(api.ctx)
    assert api.ticket(number)["status"] == "clarifying" and _open_incidents(api) == []


def test_a_clarify_naming_equipment_of_a_class_the_rules_do_not_know_is_an_incident_not_a_500(api: Api) -> None:
    assert (
        api.post("/teams", as_="admin", json={"code": "power", "name": "Power", "classes": ["ups"]}).status_code == 201
    )
    item = {"serial": "APC-1", "client": "NORD-BANK", "vendor": "APC", "model": "SRT", "equipment_class": "ups"}
    assert api.post("/equipment", as_="admin", json=item).status_code == 201
    number = api.open_ticket()["number"]
    drain(api.ctx)
    task = api.task(number, "clarify", as_="duty")
    data = {**CLARIFY, "equipment_serial": "APC-1"}
    response = api.post(f"/tasks/{task['id']}/complete", as_="duty", json={"data": data})
    assert response.status_code == 409, response.get_json()
    [incident] = _open_incidents(api)
    assert incident["id"] == response.get_json()["incident"] and incident["detail"]["data"] == data
    assert api.ticket(number)["status"] == "incident"


def test_process_owners_correct_variables_and_the_history_keeps_before_and_after(api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    body = {"variables": {"severity": "critical", "note": "checked"}}
    refused = api.call("PATCH", f"/tickets/{number}/variables", as_="duty", json=body)
    assert refused.status_code == 403
    changed = api.call("PATCH", f"/tickets/{number}/variables", as_="owner", json=body)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["before"] == {"severity": "high", "note": None}
    assert changed.get_json()["after"] == body["variables"]
    [event] = [event for event in api.history(number) if event["kind"] == "variables_changed"]
    assert event["actor"] == "owner" and event["detail"]["after"] == body["variables"]
    bad = api.call("PATCH", f"/tickets/{number}/variables", as_="owner", json={"variables": {"__class__": 1}})
    assert bad.status_code == 422


def _intake() -> dict[str, str]:
    return {
        "client": "NORD-BANK",
        "contact_email": "it@nord-bank.example",
        "equipment_serial": "IBM-FS5200-0001",
        "channel": "portal",
        "summary": "Disk array degraded",
        "category": "hardware",
    }
