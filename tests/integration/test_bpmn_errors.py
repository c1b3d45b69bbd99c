"""BPMN errors from adapters: the mail server refusing the client's address, caught by the diagram or an incident."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree

from adapters.mail import SmtpMailer
from service.context import Context
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.diagrams import BPMN, CAMUNDA, ticket_xml
from tests.support.smtp import SmtpTestServer

XML = {"Content-Type": "application/xml"}
CONTACT = "it@nord-bank.example"  # the address Api.open_ticket gives the ticket

#: An error boundary on the opening mail: a refused address is noted and the flow goes on to the duty officers.
CAUGHT = (
    '<bpmn:boundaryEvent id="contact_refused" attachedToRef="mail_ticket_opened">'
    '<bpmn:errorEventDefinition errorRef="error_mail_refused" camunda:errorCodeVariable="mail_error" />'
    "</bpmn:boundaryEvent>"
    '<bpmn:scriptTask id="note_bounce" scriptFormat="python">'
    "<bpmn:script>contact_bounced = mail_error == 'mail_refused'</bpmn:script></bpmn:scriptTask>"
    '<bpmn:sequenceFlow id="flow_refused" sourceRef="contact_refused" targetRef="note_bounce" />'
    '<bpmn:sequenceFlow id="flow_bounced" sourceRef="note_bounce" targetRef="notify_duty_officers" />'
)


def with_refused_mail_caught() -> bytes:
    """The default flow with `CAUGHT`, and the bpmn:error it names."""
    root = etree.fromstring(ticket_xml())
    error = etree.Element(f"{{{BPMN}}}error", id="error_mail_refused", name="Address refused", errorCode="mail_refused")
    root.insert(0, error)
    process = root.find(f"{{{BPMN}}}process")
    assert process is not None
    wrapper = etree.fromstring(f'<wrap xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}">{CAUGHT}</wrap>')
    for node in list(wrapper):
        process.append(node)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.fixture
def refusing() -> Iterator[SmtpTestServer]:
    """A mail server that refuses the client's address for good (550), as a client's server does for a gone box."""
    with SmtpTestServer(reject={CONTACT: "550 5.1.1 no such user"}) as server:
        yield server


def _with_mailer(ctx: Context, server: SmtpTestServer) -> Context:
    return dataclasses.replace(ctx, mailer=SmtpMailer(server.host, server.port, "desk@orchestrator.example"))


def _events(api: Api, number: str, kind: str) -> list[dict[str, Any]]:
    return [event["detail"] for event in api.history(number) if event["kind"] == kind]


def test_a_refused_address_is_a_bpmn_error_the_diagram_catches(api: Api, refusing: SmtpTestServer) -> None:
    response = api.post("/process-definitions", as_="owner", data=with_refused_mail_caught(), headers=XML)
    assert response.status_code == 201, response.get_json()
    number = api.open_ticket()["number"]
    drain(_with_mailer(api.ctx, refusing))
    [thrown] = _events(api, number, "bpmn_error")
    assert (thrown["topic"], thrown["code"], thrown["caught_by"]) == (
        "mail.ticket_opened",
        "mail_refused",
        "contact_refused",
    )
    assert CONTACT in thrown["message"] and "550" in thrown["message"]
    done = [event["topic"] for event in _events(api, number, "job_done")]
    assert "mail.ticket_opened" not in done and "notify.duty_officers" in done  # the caught path went on
    assert [t["name"] for t in api.ticket(number)["open_tasks"]] == ["clarify"]
    assert api.get("/incidents", as_="manager").get_json()["items"] == []


def test_an_uncaught_bpmn_error_is_an_incident_naming_its_code(api: Api, refusing: SmtpTestServer) -> None:
    number = api.open_ticket()["number"]  # the shipped flow has no error boundary on its mails
    drain(_with_mailer(api.ctx, refusing))
    [incident] = api.get("/incidents", as_="manager").get_json()["items"]
    assert (incident["ticket"], incident["element_id"]) == (number, "mail_ticket_opened")
    assert "'mail_refused'" in incident["last_error"] and "not caught" in incident["last_error"]
    ticket = api.ticket(number)
    assert ticket["status"] == "incident" and ticket["open_tasks"] == []
    assert _events(api, number, "bpmn_error") == [] and refusing.handler.messages == []
