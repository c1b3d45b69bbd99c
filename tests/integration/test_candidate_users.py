"""camunda:candidateUsers: the people a task names see it in "My work", claim and complete it outside its groups;
nobody else gains access."""

from __future__ import annotations

from service.worker import drain
from tests.integration.conftest import Api
from tests.integration.test_process_versions import deploy
from tests.support.diagrams import replace_attribute, ticket_xml

CLARIFY = {"description": "Controller B failed"}


def _ticket_with_named_clarify(api: Api, users: str) -> str:
    xml = replace_attribute(ticket_xml(), "clarify", "camunda:candidateUsers", users)
    assert deploy(api, xml, query_string={"filename": "ticket.bpmn"}).status_code == 201
    number = api.open_ticket()["number"]
    drain(api.ctx)
    return number


def _names(api: Api, number: str, *, as_: str) -> list[str]:
    response = api.get(f"/tasks?ticket={number}", as_=as_)
    assert response.status_code == 200, response.get_json()
    return [task["name"] for task in response.get_json()["items"]]


def test_a_named_person_outside_the_group_sees_claims_and_completes_the_task(api: Api) -> None:
    number = _ticket_with_named_clarify(api, "consultant, ${'rmc' if severity == 'critical' else 'nobody'}")
    assert _names(api, number, as_="consultant") == ["clarify"]
    assert _names(api, number, as_="duty") == ["clarify"]  # its group still has it
    task = api.task(number, "clarify", as_="consultant")
    assert task["candidate_users"] == ["consultant", "nobody"] and task["candidate_groups"] == ["duty"]
    claimed = api.post(f"/tasks/{task['id']}/claim", as_="consultant")
    assert claimed.status_code == 200, claimed.get_json()
    assert claimed.get_json()["claimed_by"] == "consultant"
    done = api.post(f"/tasks/{task['id']}/complete", as_="consultant", json={"data": CLARIFY})
    assert done.status_code == 200, done.get_json()
    completed = [e for e in api.history(number) if e["kind"] == "task_completed"]
    assert [(e["actor"], e["detail"]["task"]) for e in completed] == [("consultant", "clarify")]


def test_nobody_else_gains_access(api: Api) -> None:
    number = _ticket_with_named_clarify(api, "consultant")
    task_id = api.task(number, "clarify", as_="duty")["id"]
    assert _names(api, number, as_="rmc") == []
    assert api.get(f"/tasks/{task_id}", as_="rmc").status_code == 404
    assert api.post(f"/tasks/{task_id}/claim", as_="rmc").status_code == 404
    assert api.post(f"/tasks/{task_id}/complete", as_="rmc", json={"data": CLARIFY}).status_code == 404


def test_a_named_person_who_is_also_the_assignee_sees_the_task_once(api: Api) -> None:
    xml = replace_attribute(ticket_xml(), "clarify", "camunda:candidateUsers", "consultant")
    xml = replace_attribute(xml, "clarify", "camunda:assignee", "consultant")
    assert deploy(api, xml, query_string={"filename": "ticket.bpmn"}).status_code == 201
    number = api.open_ticket()["number"]
    drain(api.ctx)
    assert _names(api, number, as_="consultant") == ["clarify"]
    assert _names(api, number, as_="rmc") == []


def test_the_named_task_ends_for_its_people_once_completed(api: Api) -> None:
    number = _ticket_with_named_clarify(api, "consultant")
    task_id = api.task(number, "clarify", as_="consultant")["id"]
    api.complete(number, "clarify", CLARIFY, as_="duty")
    assert _names(api, number, as_="consultant") == []  # the contract covers the array: no estimate either
    assert api.post(f"/tasks/{task_id}/claim", as_="consultant").status_code == 409
