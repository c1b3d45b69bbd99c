"""The rules of who may do what that an outside probe broke: messages, time entries, mail to contacts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from service.db import transaction, utcnow
from service.processes.models import ProcessDefinition, ProcessInstance
from service.sla.firing import run_due_event
from service.tickets.models import Ticket
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.diagrams import insert_step, ticket_xml

CLARIFY = {"description": "Controller B failed", "severity": "high", "category": "hardware"}


def _waiting_for_parts(api: Api) -> str:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    api.complete(number, "clarify", CLARIFY, as_="duty")
    api.complete(number, "resolve", {"outcome": "need_parts", "parts": "controller"}, as_="storage.l1")
    api.complete(number, "order_parts", {"source": "warehouse", "order_ref": "W-1"}, as_="rmc")
    assert api.ticket(number)["status"] == "waiting_parts"
    return number


def _message(api: Api, number: str, data: dict[str, Any], *, as_: str = "rmc") -> Any:
    return api.post("/messages", as_=as_, json={"name": "parts_delivered", "ticket": number, "data": data})


def test_a_message_sets_only_the_variables_its_diagram_declares(api: Api) -> None:
    number = _waiting_for_parts(api)
    before = api.ticket(number)
    forged = {"team": "servers", "level": 3, "paid": True, "route": "per_call", "folder_url": "https://evil.example"}
    refused = _message(api, number, {**forged, "delivery_note": "DN-1"})
    assert refused.status_code == 422, refused.get_json()
    assert sorted(refused.get_json()["errors"]) == sorted(forged)
    after = api.ticket(number)
    assert {key: after[key] for key in (*forged, "status")} == {key: before[key] for key in (*forged, "status")}
    delivered = _message(api, number, {"delivery_note": "DN-1"})
    assert delivered.status_code == 200, delivered.get_json()
    assert api.ticket(number)["status"] == "onsite"


def test_a_message_is_sent_only_by_the_roles_its_diagram_names(api: Api) -> None:
    number = _waiting_for_parts(api)
    for caller in ("duty", "manager"):  # may send messages, but the diagram gives parts_delivered to the RMC
        assert _message(api, number, {}, as_=caller).status_code == 403
    for caller in ("storage.l1", "nordbank", "intake"):  # may send no message at all
        assert _message(api, number, {}, as_=caller).status_code == 403
    assert api.ticket(number)["status"] == "waiting_parts"
    unknown = _message(api, "SD-999999", {})
    assert unknown.status_code == 404 and unknown.get_json()["detail"] == "no ticket SD-999999"


def test_time_is_booked_only_on_a_ticket_the_engineer_sees(api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    api.complete(number, "clarify", CLARIFY, as_="duty")
    assert api.ticket(number)["team"] == "storage"
    entry = {"day": "2026-03-02", "hours": 2, "kind": "remote"}
    other_team = api.post("/sla/time-entries", as_="servers.l1", json={**entry, "ticket": number})
    unknown = api.post("/sla/time-entries", as_="servers.l1", json={**entry, "ticket": "SD-999999"})
    assert other_team.status_code == unknown.status_code == 404
    strip = lambda problem: {**problem, "detail": problem["detail"].replace(number, "SD-999999")}  # noqa: E731
    assert strip(other_team.get_json()) == unknown.get_json()
    own_team = api.post("/sla/time-entries", as_="storage.l1", json={**entry, "ticket": number})
    assert own_team.status_code == 201, own_team.get_json()


def _mails_to(smtp_server: Any, address: str) -> list[Any]:
    return [message for message in smtp_server.messages if address in message.recipients]


def test_mail_goes_only_to_a_confirmed_contact(api: Api, smtp_server: Any) -> None:
    stranger = "someone@elsewhere.example"
    number = api.open_ticket(as_="nordbank", client=None, contact_email=stranger)["number"]
    drain(api.ctx)
    assert api.ticket(number)["contact_confirmed"] is False
    assert _mails_to(smtp_server, stranger) == []
    assert any(number in message.subject for message in smtp_server.messages)  # the duty officers were told
    history = api.history(number, as_="duty")
    assert {"kind": "mail_withheld"}.items() <= next(e for e in history if e["kind"] == "mail_withheld").items()

    assert api.post(f"/tickets/{number}/contact/confirm", as_="nordbank").status_code == 403
    assert api.post("/tickets/SD-999999/contact/confirm", as_="duty").status_code == 404
    confirmed = api.post(f"/tickets/{number}/contact/confirm", as_="duty")
    assert confirmed.status_code == 200 and confirmed.get_json()["contact_confirmed"] is True
    api.complete(number, "clarify", CLARIFY, as_="duty")
    api.complete(number, "resolve", {"outcome": "solved"}, as_="storage.l1")
    drain(api.ctx)
    assert [m.subject for m in _mails_to(smtp_server, stranger)] == [f"[{number}] Ticket closed"]


def test_a_known_contact_is_mailed_at_once(api: Api, smtp_server: Any) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    assert any(
        m.subject.startswith(f"[{number}] Ticket opened") for m in _mails_to(smtp_server, "it@nord-bank.example")
    )


WAIT_FOR_WARNING = (
    '<bpmn:intermediateCatchEvent id="wait_for_warning"><bpmn:extensionElements><camunda:properties>'
    '<camunda:property name="variables" value="clock, kind" /></camunda:properties></bpmn:extensionElements>'
    '<bpmn:messageEventDefinition messageRef="message_sla_warning" /></bpmn:intermediateCatchEvent>'
)


def test_an_sla_message_sets_only_the_figures_its_event_declares(api: Api) -> None:
    xml = insert_step(ticket_xml(), after="notify_duty_officers", step=WAIT_FOR_WARNING).replace(
        b'<bpmn:message id="message_parts_delivered"',
        b'<bpmn:message id="message_sla_warning" name="sla_warning" /><bpmn:message id="message_parts_delivered"',
    )
    deployed = api.post("/process-definitions", as_="owner", data=xml, content_type="application/xml")
    assert deployed.status_code == 201, deployed.get_json()
    number = api.open_ticket()["number"]
    drain(api.ctx)
    later = utcnow() + timedelta(days=60)
    while run_due_event(api.ctx, now=later) is not None:
        pass
    [warning, *_] = [e for e in api.history(number, as_="admin") if e["kind"] == "sla_warning"]
    assert warning["detail"]["delivered"] is True
    with transaction(api.ctx.sessions) as session:
        instance = session.scalar(
            select(ProcessInstance).join(Ticket, Ticket.id == ProcessInstance.ticket_id).where(Ticket.number == number)
        )
        assert instance is not None
        definition = api.ctx.definitions.get(session.get(ProcessDefinition, instance.definition_id))
        data = definition.restore(instance.document, decide=api.ctx.rules.decider(session)).data
    assert (data["clock"], data["kind"]) == ("reaction", "warning")
    assert "target_seconds" not in data and "deadline" not in data
