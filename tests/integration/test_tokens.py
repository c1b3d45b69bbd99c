"""Personal tokens their owners make, list and revoke; service tokens an administrator makes for a service account."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from service.auth.models import Group, User
from service.auth.services import caller_of, issue_token
from service.db import transaction, utcnow
from tests.integration.conftest import Api
from tests.support.signin import set_password


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_personal_token_is_shown_once_listed_without_its_secret_and_authenticates(api: Api) -> None:
    made = api.post("/auth/tokens", as_="duty", json={"name": "report script", "expires_in_days": 30})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["kind"] == "personal" and body["name"] == "report script" and body["username"] == "duty"
    listed = api.get("/auth/tokens", as_="duty").get_json()["items"]
    assert [token["name"] for token in listed if token["id"] == body["id"]] == ["report script"]
    assert body["token"] not in api.get("/auth/tokens", as_="duty").get_data(as_text=True)
    assert all(set(token) == {"id", "name", "kind", "created_at", "expires_at"} for token in listed)
    assert api.client.get("/api/v1/tasks", headers=_bearer(body["token"])).status_code == 200


def test_each_lists_only_their_own_tokens(api: Api) -> None:
    api.post("/auth/tokens", as_="duty", json={"name": "mine"})
    assert "mine" not in {token["name"] for token in api.get("/auth/tokens", as_="rmc").get_json()["items"]}


def test_a_revoked_token_stops_at_once_and_another_s_is_not_found(api: Api) -> None:
    body = api.post("/auth/tokens", as_="duty", json={"name": "old"}).get_json()
    assert api.client.get("/api/v1/tasks", headers=_bearer(body["token"])).status_code == 200  # now cached
    other = api.call("DELETE", f"/auth/tokens/{body['id']}", as_="rmc")
    assert other.status_code == 404
    assert api.call("DELETE", f"/auth/tokens/{body['id']}", as_="duty").status_code == 204
    assert api.client.get("/api/v1/tasks", headers=_bearer(body["token"])).status_code == 401


def test_a_token_stops_when_it_expires(api: Api) -> None:
    body = api.post("/auth/tokens", as_="duty", json={"name": "short", "expires_in_days": 1}).get_json()
    with time_machine.travel(utcnow() + timedelta(days=1, seconds=1)):
        response = api.client.get("/api/v1/tasks", headers=_bearer(body["token"]))
    assert response.status_code == 401


def test_an_expiry_in_the_past_or_given_twice_is_refused(api: Api) -> None:
    past = (utcnow() - timedelta(days=1)).isoformat()
    response = api.post("/auth/tokens", as_="duty", json={"name": "x", "expires_at": past})
    assert response.status_code == 422 and "expires_at" in response.get_json()["errors"]
    both = api.post("/auth/tokens", as_="duty", json={"name": "x", "expires_at": past, "expires_in_days": 3})
    assert both.status_code == 422


def test_an_administrator_makes_a_service_token_for_the_intake(api: Api) -> None:
    made = api.post("/auth/tokens", as_="admin", json={"name": "mail gateway", "user": "intake"})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["kind"] == "service" and body["username"] == "intake"
    assert "mail gateway" in {t["name"] for t in api.get("/auth/tokens", as_="intake").get_json()["items"]}
    opened = api.client.post(
        "/api/v1/tickets",
        headers=_bearer(body["token"]),
        json={"client": "NORD-BANK", "contact_email": "it@nord-bank.example", "channel": "email", "summary": "x"},
    )
    assert opened.status_code == 201, opened.get_json()


def test_only_an_administrator_makes_service_tokens_and_only_for_service_accounts(api: Api) -> None:
    refused = api.post("/auth/tokens", as_="manager", json={"name": "x", "user": "intake"})
    assert refused.status_code == 403
    set_password(api.ctx, "duty")
    person = api.post("/auth/tokens", as_="admin", json={"name": "x", "user": "duty"})
    assert person.status_code == 422 and "user" in person.get_json()["errors"]
    assert api.post("/auth/tokens", as_="admin", json={"name": "x", "user": "nobody"}).status_code == 404


def test_a_tokens_caller_carries_every_group_of_its_user_and_none_for_a_user_in_none(api: Api) -> None:
    with transaction(api.ctx.sessions) as session:
        groups = list(session.scalars(select(Group).where(Group.name.in_(("storage-L1", "storage-L2")))))
        session.add_all(
            [
                User(username="two.queues", roles="engineer manager", groups=groups, worker_topics=""),
                User(username="no.queue", roles="client", worker_topics="mail.send files.create_folder"),
            ]
        )
        session.flush()
        tokens = {name: issue_token(session, username=name) for name in ("two.queues", "no.queue")}
    with api.ctx.sessions() as session:
        two = caller_of(session, token=tokens["two.queues"], what="the token")
        none = caller_of(session, token=tokens["no.queue"], what="the token")
    assert two.group_names == {"storage-L1", "storage-L2"} and two.role_set == {"engineer", "manager"}
    assert none.group_names == frozenset() and none.worker_topics == {"mail.send", "files.create_folder"}
