"""The reaction is the first touch of a task whose `sla` property is `reaction`; a task that declares no `sla` reacts
when it is in an engineering queue, as before the property was read."""

from __future__ import annotations

from service.worker import drain
from tests.integration.conftest import Api
from tests.integration.test_process_versions import deploy
from tests.support.diagrams import ticket_xml

CLARIFY = {"description": "Controller B failed"}
CLARIFY_STATUS = b'<camunda:property name="status" value="clarifying" />'
RESOLVE_SLA = b'<camunda:property name="status" value="in_progress" /><camunda:property name="sla" value="reaction" />'


def _open(api: Api, xml: bytes) -> str:
    assert deploy(api, xml, query_string={"filename": "ticket.bpmn"}).status_code in (200, 201)  # 200: the shipped
    number = api.open_ticket()["number"]
    drain(api.ctx)
    return number


def _reaction(api: Api, number: str) -> dict:  # type: ignore[type-arg]
    return api.ticket(number)["sla"]["reaction"]


def _claim(api: Api, number: str, name: str, *, as_: str) -> None:
    task_id = api.task(number, name, as_=as_)["id"]
    assert api.post(f"/tasks/{task_id}/claim", as_=as_).status_code == 200


def test_claiming_a_task_declared_reaction_is_the_reaction_whatever_its_queue(api: Api) -> None:
    assert ticket_xml().count(CLARIFY_STATUS) == 1
    reaction = CLARIFY_STATUS + b'<camunda:property name="sla" value="reaction" />'
    number = _open(api, ticket_xml().replace(CLARIFY_STATUS, reaction))
    assert _reaction(api, number)["stopped_at"] is None
    _claim(api, number, "clarify", as_="duty")
    reaction = _reaction(api, number)
    assert reaction["state"] == "met" and reaction["stopped_at"] is not None


def test_the_duty_officers_clarify_is_no_reaction_in_the_shipped_diagram(api: Api) -> None:
    number = _open(api, ticket_xml())
    _claim(api, number, "clarify", as_="duty")
    api.complete(number, "clarify", CLARIFY, as_="duty")
    assert _reaction(api, number)["stopped_at"] is None
    _claim(api, number, "resolve", as_="storage.l1")
    assert _reaction(api, number)["state"] == "met"


def test_an_engineering_task_declaring_another_sla_is_no_reaction(api: Api) -> None:
    assert ticket_xml().count(RESOLVE_SLA) == 1
    declared = RESOLVE_SLA.replace(b'value="reaction"', b'value="pause_parts"')
    number = _open(api, ticket_xml().replace(RESOLVE_SLA, declared))
    api.complete(number, "clarify", CLARIFY, as_="duty")
    _claim(api, number, "resolve", as_="storage.l1")
    assert _reaction(api, number)["stopped_at"] is None


def test_an_engineering_task_declaring_nothing_reacts_as_before(api: Api) -> None:
    undeclared = RESOLVE_SLA.replace(b'<camunda:property name="sla" value="reaction" />', b"")
    number = _open(api, ticket_xml().replace(RESOLVE_SLA, undeclared))
    api.complete(number, "clarify", CLARIFY, as_="duty")
    assert _reaction(api, number)["stopped_at"] is None
    _claim(api, number, "resolve", as_="storage.l1")
    assert _reaction(api, number)["state"] == "met"
