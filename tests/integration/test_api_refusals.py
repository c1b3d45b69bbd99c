"""Bad input gets a clear 4xx problem+json answer and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.tickets.models import Ticket
from service.worker import drain
from tests.integration.conftest import Api


def _count(api: Api) -> int:
    with api.ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"]
    return body


def test_no_token_and_bad_token(api: Api) -> None:
    _problem(api.client.get("/api/v1/tickets"), 401)
    _problem(api.client.get("/api/v1/tickets", headers={"Authorization": "Bearer nope"}), 401)


def test_health_and_openapi_need_no_token(api: Api) -> None:
    assert api.client.get("/api/v1/health").get_json() == {"status": "ok"}
    spec = api.client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/tickets" in spec["paths"] and "/api/v1/tasks/{task_id}/complete" in spec["paths"]


def test_malformed_json(api: Api) -> None:
    response = api.post("/tickets", as_="duty", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"
    assert _count(api) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"client": "NO-SUCH"}, "client"),
        ({"equipment_serial": "NO-SUCH-SERIAL"}, "equipment_serial"),
        ({"equipment_serial": "DELL-R740-0002"}, "equipment_serial"),  # another client's equipment
        ({"severity": "urgent"}, "severity"),
        ({"channel": "fax"}, "channel"),
        ({"summary": 42}, "summary"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"unexpected": "field"}, "unexpected"),
    ],
)
def test_bad_ticket_fields(api: Api, fields: dict, field: str) -> None:
    body = {
        "client": "NORD-BANK",
        "contact_email": "it@nord-bank.example",
        "equipment_serial": "IBM-FS5200-0001",
        "channel": "portal",
        "summary": "x",
        **fields,
    }
    problem = _problem(api.post("/tickets", as_="duty", json=body), 422)
    assert field in problem["errors"], problem
    assert _count(api) == 0


def test_missing_required_fields(api: Api) -> None:
    problem = _problem(api.post("/tickets", as_="duty", json={"client": "NORD-BANK"}), 422)
    assert {"contact_email", "channel", "summary"} <= set(problem["errors"])


def test_idempotency_key_returns_the_same_ticket(api: Api) -> None:
    body = {"client": "NORD-BANK", "contact_email": "it@nord-bank.example", "channel": "api", "summary": "x"}
    first = api.post("/tickets", as_="duty", json=body, headers={"Idempotency-Key": "abc-1"})
    second = api.post("/tickets", as_="duty", json=body, headers={"Idempotency-Key": "abc-1"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.headers["Location"] == f"/api/v1/tickets/{first.get_json()['number']}"
    assert first.get_json()["number"] == second.get_json()["number"]
    assert _count(api) == 1


def test_client_users_see_and_open_only_their_own(api: Api) -> None:
    nord = api.open_ticket(as_="nordbank", client=None)
    assert nord["client"] == "NORD-BANK"
    other = api.open_ticket(client="MEGA-RETAIL", contact_email="it@mega-retail.example", equipment_serial=None)
    _problem(api.get(f"/tickets/{other['number']}", as_="nordbank"), 404)
    listed = api.get("/tickets", as_="nordbank").get_json()
    assert [t["number"] for t in listed["items"]] == [nord["number"]]
    body = {"client": "MEGA-RETAIL", "contact_email": "it@mega-retail.example", "channel": "portal", "summary": "x"}
    _problem(api.post("/tickets", as_="nordbank", json=body), 403)


def test_engineers_see_only_their_queue(api: Api) -> None:
    storage = api.open_ticket()["number"]
    servers = api.open_ticket(equipment_serial="DELL-R750-0001")["number"]
    drain(api.ctx)
    for number in (storage, servers):
        api.complete(number, "clarify", {"description": "d", "category": "hardware"}, as_="duty")
    servers_task = api.task(servers, "resolve", as_="servers.l1")
    assert [t["ticket"] for t in api.get("/tasks", as_="storage.l1").get_json()["items"]] == [storage]
    _problem(api.get(f"/tasks/{servers_task['id']}", as_="storage.l1"), 404)
    _problem(api.post(f"/tasks/{servers_task['id']}/claim", as_="storage.l1"), 404)
    complete = api.post(f"/tasks/{servers_task['id']}/complete", as_="storage.l1", json={"data": {"outcome": "solved"}})
    _problem(complete, 404)
    _problem(api.get(f"/tickets/{servers}", as_="storage.l1"), 404)
    assert api.get(f"/tasks/{servers_task['id']}", as_="manager").status_code == 200


def test_form_errors_and_task_states(api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    task = api.task(number, "clarify", as_="duty")
    assert {field["id"] for field in task["form"]} >= {"description", "severity", "category", "equipment_serial"}
    path = f"/tasks/{task['id']}/complete"
    problem = _problem(api.post(path, as_="duty", json={"data": {"severity": "urgent"}}), 422)
    assert {"description", "severity"} <= set(problem["errors"])
    _problem(api.post(path, as_="duty", json={"data": {"description": 5}}), 422)
    _problem(api.post(path, as_="duty", json={"data": {"description": "d", "equipment_serial": "NOPE"}}), 422)
    _problem(api.post(path, as_="duty", json={"nodata": 1}), 422)
    assert api.task(number, "clarify", as_="duty")["id"] == task["id"]  # nothing changed
    _problem(api.get("/tasks/no-such-task", as_="duty"), 404)
    assert api.post(f"/tasks/{task['id']}/claim", as_="duty").status_code == 200
    assert api.post(path, as_="duty", json={"data": {"description": "d"}}).status_code == 200
    _problem(api.post(path, as_="duty", json={"data": {"description": "d"}}), 409)


def test_claim_conflict(api: Api, ctx) -> None:  # type: ignore[no-untyped-def]
    from service.auth.models import Group, User
    from service.db import transaction

    with transaction(ctx.sessions) as session:
        duty = session.scalar(select(Group).where(Group.name == "duty"))
        session.add(User(username="duty2", roles="duty", groups=[duty]))
    number = api.open_ticket()["number"]
    drain(api.ctx)
    task = api.task(number, "clarify", as_="duty")
    assert api.post(f"/tasks/{task['id']}/claim", as_="duty").status_code == 200
    _problem(api.post(f"/tasks/{task['id']}/claim", as_="duty2"), 409)
    _problem(api.post(f"/tasks/{task['id']}/complete", as_="duty2", json={"data": {"description": "d"}}), 409)


def test_an_unknown_address_of_a_known_client_is_accepted_and_flagged(api: Api) -> None:
    ticket = api.open_ticket(contact_email="New.Person@Nord-Bank.example", channel="email")
    assert ticket["contact_email"] == "new.person@nord-bank.example"
    assert ticket["contact_confirmed"] is False
    history = api.history(ticket["number"], as_="duty")
    assert {"kind": "contact_unconfirmed"}.items() <= history[1].items()
    known = api.open_ticket()
    assert known["contact_confirmed"] is True
