"""An interrupting event sub-process in the ticket's diagram: the message ends the ticket's open work (its tasks
leave the queues as cancelled) and the sub-process's task is the only one left."""

from __future__ import annotations

from service.worker import drain
from tests.integration.conftest import Api
from tests.integration.test_process_versions import deploy
from tests.support.diagrams import ticket_xml

WITHDRAWN = (
    '<bpmn:subProcess id="on_withdrawal" triggeredByEvent="true"><bpmn:startEvent id="withdrawn">'
    '<bpmn:extensionElements><camunda:properties><camunda:property name="senders" value="duty" />'
    '</camunda:properties></bpmn:extensionElements><bpmn:messageEventDefinition messageRef="message_withdrawn" />'
    '</bpmn:startEvent><bpmn:userTask id="confirm_withdrawal" camunda:candidateGroups="duty"><bpmn:extensionElements>'
    '<camunda:properties><camunda:property name="status" value="manager_review" /></camunda:properties>'
    '</bpmn:extensionElements></bpmn:userTask><bpmn:endEvent id="withdrawal_done" />'
    '<bpmn:sequenceFlow id="w1" sourceRef="withdrawn" targetRef="confirm_withdrawal" />'
    '<bpmn:sequenceFlow id="w2" sourceRef="confirm_withdrawal" targetRef="withdrawal_done" /></bpmn:subProcess>'
)


def test_the_message_cancels_the_open_task_and_leaves_the_sub_processs_task_alone(api: Api) -> None:
    xml = ticket_xml().replace(b"</bpmn:process>", WITHDRAWN.encode() + b"</bpmn:process>", 1)
    xml = xml.replace(
        b"<bpmn:message ", b'<bpmn:message id="message_withdrawn" name="client_withdrew" /><bpmn:message ', 1
    )
    assert deploy(api, xml, query_string={"filename": "ticket.bpmn"}).status_code == 201
    number = api.open_ticket()["number"]
    drain(api.ctx)
    clarify = api.task(number, "clarify", as_="duty")["id"]
    sent = api.post("/messages", as_="duty", json={"name": "client_withdrew", "ticket": number})
    assert sent.status_code == 200, sent.get_json()
    assert [task["name"] for task in api.ticket(number)["open_tasks"]] == ["confirm_withdrawal"]
    assert api.get(f"/tasks/{clarify}", as_="duty").get_json()["state"] == "cancelled"
    again = api.post("/messages", as_="duty", json={"name": "client_withdrew", "ticket": number})
    assert again.status_code == 404 and "not waiting" in again.get_json()["detail"]  # interrupted: no second start
    api.complete(number, "confirm_withdrawal", {}, as_="duty")
    assert api.ticket(number)["open_tasks"] == []
