"""The OpenAPI document is a true contract: it validates, and every operation says what it answers."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from openapi_spec_validator import validate

from service.api.contract import ERROR_STATUSES
from service.api.guard import Blueprint
from service.api.views import BLUEPRINTS

METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def document(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_document_validates(document: dict[str, Any]) -> None:
    validate(document)


def test_every_operation_has_a_unique_operation_id(document: dict[str, Any]) -> None:
    ids = [operation.get("operationId") for _, _, operation in _operations(document)]
    assert None not in ids
    assert len(ids) == len(set(ids))
    assert {"post_tickets", "get_tasks", "post_complete", "get_ticket_by_number"} <= set(ids)


def test_every_operation_lists_its_errors_as_problem_json(document: dict[str, Any]) -> None:
    responses = document["components"]["responses"]
    for path, method, operation in _operations(document):
        public = operation.get("security") == []
        for status in (400, 404, 500) if public else ERROR_STATUSES:
            ref = operation["responses"][str(status)]["$ref"]
            content = responses[ref.rsplit("/", 1)[1]]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
        assert "default" not in operation["responses"], (method, path)
    problem = document["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "errors", "element", "file", "line"} <= set(problem)


def test_only_public_routes_need_no_token(document: dict[str, Any]) -> None:
    public = {path for path, _, operation in _operations(document) if operation.get("security") == []}
    signing_in = {"/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/auth/password-reset"}
    assert (
        public
        == {"/api/v1/health", "/api/v1/health/ready", "/metrics", "/api/v1/auth/password-reset/confirm"} | signing_in
    )
    assert document["security"] == [{"bearer": []}]


def test_enum_like_fields_are_enums(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["Ticket"]["properties"]["severity"]["enum"] == ["critical", "high", "normal", "low"]
    assert "phone" in schemas["Ticket"]["properties"]["channel"]["enum"]
    assert schemas["Task"]["properties"]["state"]["enum"] == ["open", "completed", "cancelled"]
    assert "enum" in schemas["Clock"]["properties"]["state"]
    assert "enum" in schemas["FormField"]["properties"]["type"]
    assert schemas["FormField"]["properties"]["values"]["items"] == {"$ref": "#/components/schemas/FormOption"}


def test_limits_are_in_the_contract(document: dict[str, Any]) -> None:
    create = document["components"]["schemas"]["TicketCreate"]["properties"]
    assert (create["summary"]["minLength"], create["summary"]["maxLength"]) == (1, 200)
    assert create["description"]["maxLength"] == 20_000
    ticket_list = document["paths"]["/api/v1/tickets"]["get"]["parameters"]
    page_size = next(p for p in ticket_list if p["name"] == "page_size")
    assert page_size["schema"]["maximum"] == 200
    assert not {"page", "offset"} & {p["name"] for p in ticket_list}
    incident_id = document["paths"]["/api/v1/incidents/{incident_id}/retry"]["parameters"][0]
    assert incident_id["schema"]["maximum"] == 2**31 - 1


def test_raw_bodies_can_be_sent_by_a_generated_client(document: dict[str, Any]) -> None:
    deploy = document["paths"]["/api/v1/process-definitions"]["post"]["requestBody"]["content"]
    publish = document["paths"]["/api/v1/rulesets/{name}"]["put"]["requestBody"]["content"]
    assert "application/octet-stream" in deploy and "application/octet-stream" in publish


def test_every_blueprint_reads_json_through_the_guard() -> None:
    assert all(isinstance(blueprint, Blueprint) for blueprint in BLUEPRINTS)


def test_a_raw_yaml_body_publishes_a_ruleset(api: Any) -> None:
    text = api.get("/rulesets/routing", as_="admin").get_json()["yaml"] + "\n# again\n"
    response = api.call(
        "PUT",
        "/rulesets/routing",
        as_="analyst",
        data=text.encode(),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 201, response.get_json()
