"""Deploying diagrams through the API: versions, refusals, downloads, and which version each ticket runs."""

from __future__ import annotations

import hashlib
import io
import json
import re

import pytest

from service.worker import drain
from tests.conftest import ROOT
from tests.integration.conftest import Api
from tests.support.diagrams import DOUBLE_CHECK, insert_step, replace_attribute, ticket_xml, with_closing_note

XML = {"Content-Type": "application/xml"}
CLARIFY = {"description": "Controller B failed"}


def deploy(api: Api, xml: bytes, *, as_: str = "owner", **kwargs):  # type: ignore[no-untyped-def]
    return api.post("/process-definitions", as_=as_, data=xml, headers=XML, **kwargs)


def test_a_new_diagram_becomes_the_next_version_and_the_same_content_creates_nothing(api: Api) -> None:
    xml = with_closing_note()
    created = deploy(api, xml, query_string={"filename": "ticket.bpmn"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["key"], body["version"], body["hash"]) == ("ticket", 2, hashlib.sha256(xml).hexdigest())
    assert (body["deployed_by"], body["filename"]) == ("owner", "ticket.bpmn")
    again = deploy(api, xml)
    assert again.status_code == 200 and again.get_json()["version"] == 2
    shipped = deploy(api, ticket_xml())
    assert shipped.status_code == 200 and shipped.get_json()["version"] == 1


def test_a_diagram_as_a_multipart_file(api: Api) -> None:
    xml = insert_step(ticket_xml(), after="clarify", step=DOUBLE_CHECK)
    response = api.post(
        "/process-definitions",
        as_="owner",
        data={"file": (io.BytesIO(xml), "ticket-double-check.bpmn")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["filename"] == "ticket-double-check.bpmn"
    empty = api.post("/process-definitions", as_="owner", data={}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "file" in empty.get_json()["errors"]


def _refusal(xml: bytes, old: str, new: str) -> bytes:
    assert old.encode() in xml, old
    return xml.replace(old.encode(), new.encode(), 1)


SHIPPED = ticket_xml()
# The diagram, the element named, words of the reason, and what the line named holds.
REFUSED = {
    "does not parse": (b"<bpmn:definitions>", None, "does not parse", ""),
    "form field of an unknown type": (
        _refusal(SHIPPED, 'id="eta" label="Expected delivery" type="date"', 'id="eta" type="datetime"'),
        "order_parts",  # the user task holding the form field
        "unknown type 'datetime'",
        'id="eta" type="datetime"',
    ),
    "unsafe script": (
        _refusal(SHIPPED, "<bpmn:script>paid = True</bpmn:script>", "<bpmn:script>import os</bpmn:script>"),
        "set_paid",
        "refused code",
        "import os",
    ),
    "topic without an adapter": (
        replace_attribute(SHIPPED, "mail_estimate", "camunda:topic", "fax.estimate"),
        "mail_estimate",
        "fax.estimate",
        'id="mail_estimate"',
    ),
    "decision without a ruleset": (
        replace_attribute(SHIPPED, "routing", "camunda:decisionRef", "triage"),
        "routing",
        "'triage'",
        'id="routing"',
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_diagram_names_the_element_and_line_and_the_active_version_stays(api: Api, case: str) -> None:
    xml, element, words, line_text = REFUSED[case]
    response = deploy(api, xml, query_string={"filename": "ticket.bpmn"})
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert words in problem["detail"] and problem["file"] == "ticket.bpmn"
    assert isinstance(problem["line"], int) and problem["line"] >= 1
    assert problem.get("element") == element
    assert line_text in xml.decode().splitlines()[problem["line"] - 1]
    assert [v["version"] for v in api.get("/process-definitions/ticket/versions", as_="owner").get_json()["items"]] == [
        1
    ]


def test_deploying_needs_the_process_owner_role_and_a_body(api: Api) -> None:
    assert deploy(api, with_closing_note(), as_="analyst").status_code == 403
    assert deploy(api, with_closing_note(), as_="storage.l1").status_code == 403
    assert api.client.post("/api/v1/process-definitions", data=ticket_xml(), headers=XML).status_code == 401
    empty = deploy(api, b"  ")
    assert empty.status_code == 422 and "application/xml" in empty.get_json()["detail"]
    assert deploy(api, with_closing_note(), as_="admin").status_code == 201


def _close(api: Api, number: str) -> None:
    api.complete(number, "clarify", CLARIFY, as_="duty")
    api.complete(number, "resolve", {"outcome": "solved"}, as_="storage.l1")


def test_running_tickets_keep_their_version_and_new_ones_take_the_newest(api: Api) -> None:
    first, second = api.open_ticket()["number"], api.open_ticket()["number"]
    drain(api.ctx)
    _close(api, first)
    assert deploy(api, insert_step(ticket_xml(), after="clarify", step=DOUBLE_CHECK)).status_code == 201
    third = api.open_ticket()
    assert api.ticket(third["number"])["process_version"] == 2
    assert api.ticket(second)["process_version"] == 1
    api.complete(second, "clarify", CLARIFY, as_="duty")  # version 1 has no double check
    assert api.ticket(second)["status"] == "in_progress" and api.ticket(second)["process_version"] == 1
    drain(api.ctx)
    api.complete(third["number"], "clarify", CLARIFY, as_="duty")
    assert [t["name"] for t in api.ticket(third["number"])["open_tasks"]] == ["double_check"]

    versions = api.get("/process-definitions/ticket/versions", as_="manager").get_json()["items"]
    assert [(v["version"], v["latest"], v["tickets_open"], v["tickets_total"]) for v in versions] == [
        (2, True, 1, 1),
        (1, False, 1, 2),
    ]
    assert versions[0]["deployed_by"] == "owner" and len(versions[0]["hash"]) == 64


def test_the_xml_of_a_version_downloads_as_deployed(api: Api) -> None:
    xml = with_closing_note()
    deploy(api, xml)
    response = api.get("/process-definitions/ticket/versions/2/xml", as_="analyst")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.data == xml
    assert 'filename="ticket-v2.bpmn"' in response.headers["Content-Disposition"]
    assert api.get("/process-definitions/ticket/versions/1/xml", as_="owner").data == ticket_xml()
    assert api.get("/process-definitions/ticket/versions/9/xml", as_="owner").status_code == 404
    assert api.get("/process-definitions/nope/versions", as_="owner").status_code == 404
    assert api.get("/process-definitions/ticket/versions", as_="storage.l1").status_code == 403


def _json_blocks(guide: str) -> list[dict]:
    text = (ROOT / "docs" / guide).read_text(encoding="utf-8")
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, flags=re.S)]


def test_the_refusal_shown_in_the_process_owners_guide_is_the_real_answer(api: Api) -> None:
    [shown] = [block for block in _json_blocks("process-owners.md") if block.get("status") == 422]
    xml = replace_attribute(ticket_xml(), "mail_estimate", "camunda:topic", "fax.estimate")
    assert deploy(api, xml, query_string={"filename": "ticket.bpmn"}).get_json() == shown
