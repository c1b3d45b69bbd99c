"""Every construct that can fail at run time, put after the clarify task of the default flow, stops the ticket at an
incident through the API (a 409 naming it, the ticket in the status `incident`, the incident listed), never a 500."""

from __future__ import annotations

import pytest
from flask import Flask
from lxml import etree

from service.worker import drain
from tests.integration.conftest import Api
from tests.support.diagrams import BPMN, NS, insert_step, ticket_xml
from tests.support.signin import sign_in_page

CLARIFY = {"description": "Controller B failed", "severity": "high", "category": "hardware"}
#: The flow that leaves an element inserted after clarify (``insert_step`` keeps the old flow's id for it).
ONWARD = "flow_clarify_entitlement"


def _step(xml: str) -> bytes:
    return insert_step(ticket_xml(), after="clarify", step=xml)


def _gateway(condition: str) -> bytes:
    """An exclusive gateway after clarify whose only flow onward has `condition`, and no default flow."""
    root = etree.fromstring(_step('<bpmn:exclusiveGateway id="gate" name="Gate" />'))
    flow = root.find(f".//bpmn:sequenceFlow[@id='{ONWARD}']", NS)
    assert flow is not None
    expression = etree.SubElement(flow, f"{{{BPMN}}}conditionExpression")
    expression.set("{http://www.w3.org/2001/XMLSchema-instance}type", "bpmn:tFormalExpression")
    expression.text = condition
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


CASES = {
    "script error": (
        _step(
            '<bpmn:scriptTask id="check" scriptFormat="python"><bpmn:script>x = 1 / 0</bpmn:script></bpmn:scriptTask>'
        ),
        "check",
        "division by zero",
    ),
    "expression error in a condition": (_gateway("${no_such_variable > 1}"), "gate", "no_such_variable"),
    "gateway with no matching flow and no default": (_gateway("${severity == 'none'}"), "gate", "gate"),
    "decision without an outcome for the facts": (
        _step(
            '<bpmn:businessRuleTask id="decide" camunda:decisionRef="escalation" camunda:resultVariable="next">'
            "<bpmn:extensionElements><camunda:inputOutput>"
            '<camunda:inputParameter name="level">${9}</camunda:inputParameter>'
            "</camunda:inputOutput></bpmn:extensionElements></bpmn:businessRuleTask>"
        ),
        "decide",
        "decision 'escalation' failed",
    ),
    "candidate group expression that fails": (
        _step('<bpmn:userTask id="review" camunda:candidateGroups="${no_such_team}-L1" />'),
        "review",
        "no_such_team",
    ),
    "timer expression that fails": (
        _step(
            '<bpmn:intermediateCatchEvent id="pause"><bpmn:timerEventDefinition><bpmn:timeDuration>'
            "${no_such_duration}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
        ),
        "pause",
        "no_such_duration",
    ),
}


@pytest.mark.parametrize(("diagram", "element", "text"), list(CASES.values()), ids=list(CASES))
def test_a_failing_construct_stops_the_ticket_at_an_incident_not_a_500(
    api: Api, diagram: bytes, element: str, text: str
) -> None:
    deployed = api.post("/process-definitions", as_="owner", data=diagram)
    assert deployed.status_code == 201, deployed.get_json()
    number = api.open_ticket()["number"]
    drain(api.ctx)
    task = api.task(number, "clarify", as_="duty")
    failed = api.post(f"/tasks/{task['id']}/complete", as_="duty", json={"data": CLARIFY})
    assert failed.status_code == 409 and failed.mimetype == "application/problem+json", failed.get_json()
    problem = failed.get_json()
    assert problem["element"] == element and text in problem["detail"], problem
    [incident] = api.get("/incidents", as_="manager").get_json()["items"]
    assert (incident["id"], incident["ticket"], incident["element_id"]) == (problem["incident"], number, element)
    assert incident["kind"] == "complete_task" and text in incident["last_error"]
    assert api.ticket(number)["status"] == "incident"
    assert [event["kind"] for event in api.history(number)].count("incident") == 1


def test_the_task_page_of_a_stopped_ticket_tells_staff_where_it_stopped(api: Api, app: Flask) -> None:
    diagram, element, text = CASES["script error"]
    assert api.post("/process-definitions", as_="owner", data=diagram).status_code == 201
    number = api.open_ticket()["number"]
    drain(api.ctx)
    task = api.task(number, "clarify", as_="duty")
    page = f"/tasks/{task['id']}"
    manager, duty = app.test_client(), app.test_client()
    sign_in_page(manager, api.ctx, "manager", language="en")
    sign_in_page(duty, api.ctx, "duty", language="ru")
    assert 'id="incident-notice"' not in manager.get(page).text  # a running ticket: no notice
    assert api.post(f"/tasks/{task['id']}/complete", as_="duty", json={"data": CLARIFY}).status_code == 409

    shown = manager.get(page)
    assert shown.status_code == 200 and 'id="incident-notice"' in shown.text
    assert (
        "Stopped at check:" in shown.text and text in shown.text and 'href="/dashboard#incidents-heading"' in shown.text
    )
    russian = duty.get(page).text
    assert "Остановлена на элементе check:" in russian and text in russian
    assert 'href="/dashboard' not in russian  # duty officers have no dashboard: they are told who resolves it
    assert "владелец процесса" in russian
