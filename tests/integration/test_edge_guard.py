"""Input no parser or database downstream can take is refused at the request's edge with a 4xx problem, and no
error answer ever carries a database statement."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Request
from sqlalchemy import text, update
from werkzeug.test import EnvironBuilder

from service.api.guard import BadRequest, Blueprint, check_request
from service.db import transaction, utcnow
from service.jobs.models import Job
from service.jobs.topics import TOPICS
from service.rulesets.registry import RulesRegistry
from service.tickets.schemas import TicketCreateSchema
from service.worker import drain
from tests.conftest import ROOT
from tests.integration.conftest import Api
from tests.integration.test_flow_api import CLARIFY

TICKET = {
    "client": "NORD-BANK",
    "contact_email": "it@nord-bank.example",
    "channel": "portal",
    "summary": "Disk array degraded",
}


def _raw(api: Api, method: str, path: str, body: bytes | None = None, *, as_: str = "admin") -> Any:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    return api.call(method, path, as_=as_, data=body, headers=headers)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"summary": "a\\u0000b"}', "U+0000"),
        (b'{"summary": "\\ud800"}', "U+D800"),
        (b'{"a\\u0000": 1}', "U+0000"),
        (b'{"page": ' + b"9" * 5000 + b"}", "digits"),
        (b'{"hours": NaN}', "NaN"),
        (b'{"hours": -Infinity}', "Infinity"),
        (b'{"hours": 1e400}', "beyond what a float holds"),
        (b"[" * 100_000 + b"]" * 100_000, "nests"),
        (b'{"summary": "\xff\xfe"}', "UTF-8"),
        (b'{"summary": ', "not JSON"),
    ],
)
def test_an_unreadable_json_body_is_a_400_problem(api: Api, body: bytes, reason: str) -> None:
    response = _raw(api, "POST", "/tickets", body, as_="duty")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert reason in response.get_json()["detail"]


def test_a_nul_nested_in_a_form_value_is_refused(api: Api) -> None:
    body = b'{"data": {"notes": ["ok", {"x": "\\u0000"}]}}'
    response = _raw(api, "POST", "/tasks/whatever/complete", body)
    assert response.status_code == 400
    assert "U+0000" in response.get_json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/tickets/SD-%00",
        "/tickets?client=NORD%00BANK",
        "/tickets?status=%ff%fe",
        "/rulesets/%c3%28",
        "/tickets?%00=1",
    ],
)
def test_a_nul_or_bad_utf8_in_the_path_or_query_is_a_400_problem(api: Api, path: str) -> None:
    response = api.get(path, as_="admin")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


def test_the_guard_comes_before_authentication(api: Api) -> None:
    response = api.client.get("/api/v1/tickets?x=%00")
    assert response.status_code == 400


@pytest.mark.parametrize("job_id", [2**31 - 1, 2**31, 2**63 - 1, 2**63])
def test_an_id_beyond_the_id_columns_is_not_found(api: Api, job_id: int) -> None:
    response = api.post(f"/incidents/{job_id}/retry", as_="admin")
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("query", ["page=99999999999999999999", "page=9223372036854775807", "page_size=2147483648"])
def test_a_page_beyond_any_range_is_a_422(api: Api, query: str) -> None:
    response = api.get(f"/tickets?{query}", as_="admin")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


def test_the_largest_page_that_can_exist_is_answered(api: Api) -> None:
    response = api.get("/tickets?page_size=200", as_="admin")
    assert response.status_code == 200
    assert set(response.get_json()) == {"items", "next"}


def test_a_database_error_inside_a_step_answers_no_statement(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    task = api.task(number, "clarify", as_="duty")

    def broken(self: RulesRegistry, session: Any, name: str) -> Any:
        session.execute(text("SELECT secret_column FROM no_such_table WHERE token = :token"), {"token": "s3cr3t"})

    monkeypatch.setattr(RulesRegistry, "active", broken)
    response = api.post(f"/tasks/{task['id']}/complete", as_="duty", json={"data": CLARIFY})
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    for leak in ("SELECT", "no_such_table", "secret_column", "s3cr3t", "Traceback", "sqlalchemy"):
        assert leak not in body, body
    assert response.get_json() == {"type": "about:blank", "title": "Internal Server Error", "status": 500}
    history = api.get(f"/tickets/{number}/history", as_="admin").get_data(as_text=True)
    assert "incident" in history  # the person who looks finds the failed step, but not the statement
    for leak in ("SELECT", "no_such_table", "secret_column", "s3cr3t"):
        assert leak not in history, history


def test_a_database_error_inside_a_job_leaves_no_statement_in_the_incident(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(call: Any) -> Any:
        call.session.execute(text("SELECT secret_column FROM no_such_table WHERE token = :token"), {"token": "s3cr3t"})

    monkeypatch.setitem(TOPICS, "files.create_folder", broken)
    number = api.open_ticket()["number"]
    for _ in range(api.ctx.config.job_max_attempts):
        drain(api.ctx)
        with transaction(api.ctx.sessions) as session:  # no waiting out the backoff
            session.execute(update(Job).values(run_after=utcnow()))
    incidents = api.get("/incidents", as_="admin")
    assert incidents.status_code == 200 and number in incidents.get_data(as_text=True)
    for answer in (incidents, api.get(f"/tickets/{number}/history", as_="admin")):
        for leak in ("SELECT", "no_such_table", "secret_column", "s3cr3t"):
            assert leak not in answer.get_data(as_text=True), answer.get_data(as_text=True)


@pytest.mark.parametrize(("filename", "status"), [("ticket\x00.bpmn", 400), ("ticket\x85.bpmn", 422)])
def test_an_uploaded_file_name_is_checked_like_any_text(api: Api, filename: str, status: int) -> None:
    xml = (ROOT / "processes" / "ticket.bpmn").read_bytes()
    upload = {"file": (io.BytesIO(xml), filename)}
    response = api.post("/process-definitions", as_="admin", data=upload, content_type="multipart/form-data")
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


def test_a_nul_in_a_form_field_is_a_400(api: Api) -> None:
    upload = {"note": "a\x00b", "file": (io.BytesIO(b"<x/>"), "x.bpmn")}
    response = api.post("/process-definitions", as_="admin", data=upload, content_type="multipart/form-data")
    assert response.status_code == 400


def _form(disposition: str, value: bytes) -> Request:
    boundary = "b0undary"
    body = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value
    body += f"\r\n--{boundary}--\r\n".encode()
    content_type = f"multipart/form-data; boundary={boundary}"
    return Request(EnvironBuilder(method="POST", data=body, content_type=content_type).get_environ())


@pytest.mark.parametrize("disposition", ["form-data", 'form-data; name=""', 'form-data; filename="x.csv"'])
def test_a_form_part_without_a_name_is_checked_not_a_server_error(disposition: str) -> None:
    check_request(_form(disposition, b"235949"))  # a part may come without a name: nothing to refuse


def test_a_nameless_form_part_is_still_checked() -> None:
    with pytest.raises(BadRequest):
        check_request(_form("form-data", b"23\x0059"))


def test_a_views_argument_schema_is_made_once_and_keeps_nothing_between_requests(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = []
    original = TicketCreateSchema.__init__

    def counted(self: Any, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(TicketCreateSchema, "__init__", counted)
    monkeypatch.setattr(Blueprint.ARGUMENTS_PARSER, "_schemas", {})
    refused = api.post("/tickets", as_="duty", json={**TICKET, "summary": ""})
    assert refused.status_code == 422 and "summary" in refused.get_json()["errors"]
    assert api.post("/tickets", as_="duty", json=TICKET).status_code == 201  # the refusal left nothing behind
    missing = api.post("/tickets", as_="duty", json={key: TICKET[key] for key in TICKET if key != "channel"})
    assert missing.status_code == 422 and set(missing.get_json()["errors"]) == {"channel"}
    assert len(made) == 1
