"""The deploy answer tells every problem at once, warns on success, and status and SLA follow the diagram's tasks."""

from __future__ import annotations

from typing import Any

from service.worker import drain
from tests.integration.conftest import Api
from tests.integration.test_process_versions import deploy
from tests.support.diagrams import replace_attribute, ticket_xml


def test_a_diagram_with_five_problems_gets_five_in_one_answer(api: Api) -> None:
    xml = replace_attribute(ticket_xml(), "mail_estimate", "camunda:topic", "fax.estimate")
    xml = replace_attribute(xml, "routing", "camunda:decisionRef", "triage")
    xml = xml.replace(b'value="pause_parts"', b'value="pause_lunch"', 1)
    xml = xml.replace(b'value="estimating"', b'value="dreaming"', 1)
    xml = xml.replace(b"<bpmn:script>paid = True</bpmn:script>", b"<bpmn:script>import os</bpmn:script>", 1)
    response = deploy(api, xml, query_string={"filename": "ticket.bpmn"})
    assert response.status_code == 422
    problems = response.get_json()["problems"]
    assert sorted(p["element"] for p in problems) == sorted(
        ["mail_estimate", "routing", "order_parts", "estimate", "set_paid"]
    )
    assert all(isinstance(p["line"], int) and p["detail"] for p in problems)
    assert [p["line"] for p in problems] == sorted(p["line"] for p in problems)


def _deployed_warning(api: Api, xml: bytes) -> dict[str, Any]:
    """The one warning of a successful deployment of `xml`."""
    response = deploy(api, xml, query_string={"filename": "ticket.bpmn"})
    assert response.status_code == 201, response.get_json()
    [warning] = response.get_json()["warnings"]
    return warning


def test_warnings_come_back_with_a_successful_deployment(api: Api) -> None:
    warning = _deployed_warning(
        api, ticket_xml().replace(b'<camunda:property name="status" value="clarifying" />', b"")
    )
    assert warning["element"] == "clarify" and "no ticket status" in warning["detail"]


def test_a_renamed_task_keeps_its_status_and_sla_pause(api: Api) -> None:
    xml = ticket_xml()
    for old, new in ((b'"estimate"', b'"price_the_work"'), (b'"record_payment"', b'"take_payment"')):
        xml = xml.replace(b"id=" + old, b"id=" + new).replace(b"Ref=" + old, b"Ref=" + new)
    assert b'id="estimate"' not in xml
    assert deploy(api, xml, query_string={"filename": "ticket.bpmn"}).status_code == 201
    number = api.open_ticket(
        client="NEW-CLIENT", contact_email="it@new-client.example", equipment_serial="CISCO-C9300-0005"
    )["number"]
    drain(api.ctx)
    api.complete(number, "clarify", {"description": "switch down"}, as_="duty")
    ticket = api.ticket(number)
    assert ticket["status"] == "estimating"
    assert ticket["sla"]["reaction"]["state"] == "paused"
    api.complete(number, "price_the_work", {"diagnostics_cost": 12000}, as_="consultant")
    ticket = api.ticket(number)
    assert ticket["status"] == "awaiting_payment" and ticket["sla"]["reaction"]["state"] == "paused"
    api.complete(number, "take_payment", {"accepted": True, "paid": True}, as_="duty")
    ticket = api.ticket(number)
    assert ticket["status"] == "in_progress" and ticket["sla"]["reaction"]["state"] == "running"


def test_a_task_for_nobody_deploys_with_a_warning_and_waits_for_those_who_work_every_queue(api: Api) -> None:
    warning = _deployed_warning(api, ticket_xml().replace(b' camunda:candidateGroups="duty"', b"", 1))
    assert warning["element"] == "clarify" and "administrators and managers" in warning["detail"]
    number = api.open_ticket()["number"]
    drain(api.ctx)
    for nobody in ("duty", "consultant", "storage.l1"):
        items = api.get(f"/tasks?ticket={number}", as_=nobody).get_json()["items"]
        assert items == [], nobody
    assert api.task(number, "clarify", as_="admin")["candidate_groups"] == []
    api.complete(number, "clarify", {"description": "switch down"}, as_="manager")
    assert api.ticket(number)["status"] == "in_progress"
