"""People over the API: filters, the rules between roles, client and partner, versions, the history without
passwords, deactivation that refuses the very next request, and what a partner engineer sees."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from service.auth.models import ApiToken, User
from service.auth.services import issue_token
from service.context import Context
from service.db import transaction, utcnow
from service.worker import drain
from tests.integration.conftest import Api

NEW = {
    "username": "ivanov",
    "name": "Иван Иванов",
    "email": "ivanov@orchestrator.example",
    "phone": "+7 495 123-45-67",
    "roles": ["engineer"],
    "groups": ["storage-L2"],
    "language": "en",
    "time_zone": "Asia/Yekaterinburg",
}
CLARIFY = {"description": "Controller B failed", "severity": "high"}


def _create(api: Api, **fields: Any) -> Any:
    return api.post("/users", as_="admin", json={**NEW, **fields})


def _patch(api: Api, username: str, body: dict[str, Any], etag: str | None, *, as_: str = "admin") -> Any:
    headers = {"If-Match": etag} if etag is not None else {}
    return api.call("PATCH", f"/users/{username}", as_=as_, json=body, headers=headers)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _names(api: Api, query: str) -> list[str]:
    return [person["username"] for person in api.get(f"/users?{query}", as_="manager").get_json()["items"]]


def test_a_person_is_created_read_and_found(api: Api) -> None:
    created = _create(api)
    assert created.status_code == 201, created.get_json()
    read = api.get("/users/ivanov", as_="manager")
    assert read.get_json() == {**NEW, "client": None, "partner": None, "active": True}
    assert read.headers["ETag"] == created.headers["ETag"]
    assert _names(api, "q=ИВАН") == ["ivanov"]
    assert _names(api, "group=storage-L2") == ["ivanov", "storage.l2"]
    assert _names(api, "role=client") == ["megaretail", "nordbank"]
    assert _names(api, "role=process_owner") == ["owner"]
    assert _names(api, "client=NORD-BANK") == ["nordbank"]
    assert _create(api).status_code == 409


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"roles": ["wizard"]}, "roles"),
        ({"groups": ["storage-L9"]}, "groups"),
        ({"roles": ["client"]}, "client"),
        ({"client": "NORD-BANK"}, "client"),
        ({"roles": ["client"], "client": "NO-SUCH"}, "client"),
        ({"roles": ["duty"], "partner": "Acme"}, "partner"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"language": "de"}, "language"),
        ({"username": "Ivan Ivanov"}, "username"),
    ],
)
def test_what_does_not_fit_is_refused_naming_the_field(api: Api, fields: dict[str, Any], field: str) -> None:
    response = _create(api, **fields)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_a_client_user_and_a_partner_engineer_are_accepted(api: Api) -> None:
    client = _create(api, username="buh", roles=["client"], groups=[], client="NORD-BANK")
    assert client.status_code == 201 and client.get_json()["client"] == "NORD-BANK"
    partner = _create(api, username="acme.l3", groups=["storage-L3"], partner="Acme Storage")
    assert partner.status_code == 201 and partner.get_json()["partner"] == "Acme Storage"


def test_only_administrators_manage_people_and_managers_read_them(api: Api) -> None:
    assert api.post("/users", as_="manager", json=NEW).status_code == 403
    assert api.get("/users", as_="duty").status_code == 403
    assert api.get("/users/duty", as_="storage.l1").status_code == 403
    etag = api.get("/users/duty", as_="manager").headers["ETag"]
    assert _patch(api, "duty", {"phone": "1"}, etag, as_="manager").status_code == 403


def test_a_change_needs_the_version_read_and_a_stale_one_is_refused(api: Api) -> None:
    etag = _create(api).headers["ETag"]
    assert _patch(api, "ivanov", {"phone": "1"}, None).status_code == 428
    moved = _patch(api, "ivanov", {"groups": ["storage-L2", "storage-L3"]}, etag)
    assert moved.status_code == 200, moved.get_json()
    assert moved.headers["ETag"] != etag  # a change of groups alone is a new version too
    assert _patch(api, "ivanov", {"phone": "2"}, etag).status_code == 412
    assert api.get("/users/ivanov", as_="admin").get_json()["groups"] == ["storage-L2", "storage-L3"]


def test_deactivation_refuses_the_very_next_request_of_every_token(api: Api, ctx: Context) -> None:
    assert api.get("/tasks", as_="storage.l1").status_code == 200  # a token in use, known to the process
    with transaction(ctx.sessions) as session:
        second = issue_token(session, username="storage.l1")
    assert api.client.get("/api/v1/tasks", headers=_bearer(second)).status_code == 200
    etag = api.get("/users/storage.l1", as_="admin").headers["ETag"]
    assert _patch(api, "storage.l1", {"active": False}, etag).status_code == 200
    assert api.get("/tasks", as_="storage.l1").status_code == 401
    assert api.client.get("/api/v1/tasks", headers=_bearer(second)).status_code == 401
    with transaction(ctx.sessions) as session:
        user_id = session.scalar(select(User.id).where(User.username == "storage.l1"))
        assert session.scalar(select(ApiToken.id).where(ApiToken.user_id == user_id)) is None
    history = api.get("/users/storage.l1/history", as_="manager").get_json()["items"]
    assert history[-1]["action"] == "deactivated" and history[-1]["after"] == {"active": False}
    assert api.get("/users?active=false", as_="manager").get_json()["items"][0]["username"] == "storage.l1"


def test_an_inactive_user_or_an_expired_token_is_refused(api: Api, ctx: Context) -> None:
    assert api.get("/tasks", as_="storage.l2").status_code == 200
    with transaction(ctx.sessions) as session:  # deactivated behind the API's back: the token row is still there
        session.execute(update(User).where(User.username == "storage.l2").values(active=False))
    assert api.get("/tasks", as_="storage.l2").status_code == 401
    assert api.get("/tasks", as_="storage.l3").status_code == 200
    with transaction(ctx.sessions) as session:
        user_id = session.scalar(select(User.id).where(User.username == "storage.l3"))
        past = utcnow() - timedelta(minutes=1)
        session.execute(update(ApiToken).where(ApiToken.user_id == user_id).values(expires_at=past))
    assert api.get("/tasks", as_="storage.l3").status_code == 401


def test_the_history_never_holds_a_password(api: Api, ctx: Context) -> None:
    etag = _create(api).headers["ETag"]
    with transaction(ctx.sessions) as session:
        session.execute(update(User).where(User.username == "ivanov").values(password_hash="$argon2id$secret"))
    etag = api.get("/users/ivanov", as_="admin").headers["ETag"]
    assert _patch(api, "ivanov", {"name": "Иван", "roles": ["engineer", "manager"]}, etag).status_code == 200
    history = api.get("/users/ivanov/history", as_="admin")
    assert "secret" not in history.get_data(as_text=True) and "password" not in history.get_data(as_text=True)
    items = history.get_json()["items"]
    assert [item["action"] for item in items] == ["created", "updated"]
    assert items[1]["after"] == {"name": "Иван", "roles": ["engineer", "manager"]}
    assert "password" not in api.get("/users/ivanov", as_="admin").get_data(as_text=True)


def test_a_partner_engineer_sees_only_the_tickets_of_tasks_given_to_their_group(api: Api) -> None:
    assert _create(api, username="acme", groups=["storage-L1"], partner="Acme Storage").status_code == 201
    on_site = api.open_ticket()["number"]  # storage hardware: its task goes to storage-L1
    remote = api.open_ticket()["number"]  # storage software: to storage-L2
    drain(api.ctx)
    api.complete(on_site, "clarify", {**CLARIFY, "category": "hardware"}, as_="duty")
    api.complete(remote, "clarify", {**CLARIFY, "category": "software"}, as_="duty")
    assert api.ticket(remote)["level"] == 2
    assert api.get(f"/tickets/{remote}", as_="storage.l1").status_code == 200  # a staff engineer sees their team's
    assert api.get(f"/tickets/{on_site}", as_="acme").status_code == 200
    assert api.get(f"/tickets/{remote}", as_="acme").status_code == 404
    listed = {ticket["number"] for ticket in api.get("/tickets?page_size=200", as_="acme").get_json()["items"]}
    assert listed == {on_site}
    api.complete(on_site, "resolve", {"outcome": "solved", "hours": 1, "notes": "done"}, as_="acme")
    assert api.get(f"/tickets/{on_site}", as_="acme").status_code == 200  # a task it had: still visible
