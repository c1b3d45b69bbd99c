"""Signing in and out: the session cookie and its CSRF value, bearer tokens on request, one answer for every
refused password, and the throttle that slows down and then locks a username or an address."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import update

from service.auth import passwords
from service.auth.login import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from service.auth.models import User
from service.context import Context
from service.db import transaction, utcnow
from tests.integration.conftest import Api
from tests.support.signin import PASSWORD, set_password, sign_in


@pytest.fixture
def strict(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> Context:
    """Throttle from the 2nd failure (1 s, doubling), lock from the 4th for 10 minutes."""
    config = dataclasses.replace(
        ctx.config, login_throttle_after=2, login_delay_seconds=1.0, login_lock_after=4, login_lock_seconds=600.0
    )
    monkeypatch.setattr(ctx, "config", config)
    return ctx


def test_signing_in_sets_an_httponly_session_cookie_and_answers_the_user(api: Api) -> None:
    set_password(api.ctx, "duty")
    response = sign_in(api.client, "duty")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["username"] == "duty" and body["roles"] == ["duty"] and body["token"] is None
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    assert "HttpOnly" in cookies[SESSION_COOKIE] and "SameSite=Lax" in cookies[SESSION_COOKIE]
    assert "Secure" in cookies[SESSION_COOKIE]
    assert "HttpOnly" not in cookies[CSRF_COOKIE]
    assert f"{CSRF_COOKIE}={body['csrf_token']}" in cookies[CSRF_COOKIE]
    assert api.client.get("/api/v1/tasks").status_code == 200  # the cookie alone authenticates a read
    assert api.client.get_cookie(SESSION_COOKIE).value not in response.get_data(as_text=True)


def test_a_change_by_cookie_needs_the_csrf_header_and_a_bearer_request_does_not(api: Api) -> None:
    set_password(api.ctx, "duty")
    csrf = sign_in(api.client, "duty").get_json()["csrf_token"]
    refused = api.client.post("/api/v1/auth/tokens", json={"name": "laptop"})
    assert refused.status_code == 403 and CSRF_HEADER in refused.get_json()["detail"]
    wrong = api.client.post("/api/v1/auth/tokens", json={"name": "laptop"}, headers={CSRF_HEADER: "0" * 64})
    assert wrong.status_code == 403
    made = api.client.post("/api/v1/auth/tokens", json={"name": "laptop"}, headers={CSRF_HEADER: csrf})
    assert made.status_code == 201, made.get_json()
    assert api.post("/auth/tokens", as_="duty", json={"name": "script"}).status_code == 201


def test_a_bearer_token_on_request_is_personal_and_named(api: Api) -> None:
    set_password(api.ctx, "rmc")
    body = sign_in(api.client, "rmc", token=True, token_name="laptop script").get_json()
    api.client.delete_cookie(SESSION_COOKIE)
    headers = {"Authorization": f"Bearer {body['token']}"}
    tokens = api.client.get("/api/v1/auth/tokens", headers=headers).get_json()["items"]
    assert {(token["kind"], token["name"]) for token in tokens} == {
        ("session", "browser"),
        ("personal", "laptop script"),
    }


def test_unknown_user_wrong_password_and_deactivated_user_get_one_answer(api: Api) -> None:
    set_password(api.ctx, "duty")
    set_password(api.ctx, "rmc")
    with transaction(api.ctx.sessions) as session:
        session.execute(update(User).where(User.username == "rmc").values(active=False))
    answers = [
        sign_in(api.client, "nobody-at-all"),
        sign_in(api.client, "duty", "not the password"),
        sign_in(api.client, "rmc"),
        sign_in(api.client, "consultant", ""),  # a user without a password
    ]
    assert {response.status_code for response in answers} == {401}
    assert len({response.get_data() for response in answers}) == 1
    assert not any(response.headers.get("Set-Cookie") for response in answers)


def test_logout_ends_the_session_of_the_cookie(api: Api) -> None:
    set_password(api.ctx, "duty")
    csrf = sign_in(api.client, "duty").get_json()["csrf_token"]
    cookie = api.client.get_cookie(SESSION_COOKIE).value
    assert api.client.post("/api/v1/auth/logout").status_code == 403  # a cookie's logout sends its CSRF value too
    assert api.client.post("/api/v1/auth/logout", headers={CSRF_HEADER: csrf}).status_code == 204
    assert api.client.get_cookie(SESSION_COOKIE) is None
    api.client.set_cookie(SESSION_COOKIE, cookie)
    assert api.client.get("/api/v1/tasks").status_code == 401


def test_logout_ends_the_bearer_token_sent(api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.token('manager')}"}
    assert api.client.get("/api/v1/tasks", headers=headers).status_code == 200
    assert api.client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert api.client.get("/api/v1/tasks", headers=headers).status_code == 401


def test_a_session_ends_after_its_lifetime(api: Api) -> None:
    set_password(api.ctx, "duty")
    sign_in(api.client, "duty")
    later = utcnow() + timedelta(hours=api.ctx.config.session_hours, minutes=1)
    with time_machine.travel(later, tick=False):
        response = api.client.get("/api/v1/tasks")
    assert response.status_code == 401 and "expired" in response.get_json()["detail"]


def test_failures_slow_a_username_down_then_lock_it_and_an_unknown_name_looks_the_same(
    strict: Context, api: Api
) -> None:
    set_password(strict, "duty")
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        for name in ("duty", "ghost"):
            for _ in range(2):
                assert sign_in(api.client, name, "wrong", address=f"10.1.0.{len(name)}").status_code == 401
        slowed = {
            name: sign_in(api.client, name, PASSWORD, address=f"10.1.0.{len(name)}") for name in ("duty", "ghost")
        }
        assert [r.status_code for r in slowed.values()] == [429, 429]  # even the right password waits
        assert slowed["duty"].get_json() == slowed["ghost"].get_json()
        assert slowed["duty"].headers["Retry-After"] == slowed["ghost"].headers["Retry-After"] == "1"
        for seconds in (2, 3):
            clock.shift(seconds)
            for name in ("duty", "ghost"):
                assert sign_in(api.client, name, "wrong", address=f"10.1.0.{len(name)}").status_code == 401
        clock.shift(60)
        locked = {
            name: sign_in(api.client, name, PASSWORD, address=f"10.2.0.{len(name)}") for name in ("duty", "ghost")
        }
        assert [r.status_code for r in locked.values()] == [429, 429]
        assert locked["duty"].get_json() == locked["ghost"].get_json()
        assert "locked" in locked["duty"].get_json()["detail"]
        assert locked["duty"].headers["Retry-After"] == locked["ghost"].headers["Retry-After"] == "540"
        clock.shift(541)
        assert sign_in(api.client, "duty", address="10.3.0.1").status_code == 200


def test_a_success_clears_the_username_count(strict: Context, api: Api) -> None:
    set_password(strict, "duty")
    with time_machine.travel(utcnow(), tick=False) as clock:
        assert sign_in(api.client, "duty", "wrong", address="10.4.0.1").status_code == 401
        assert sign_in(api.client, "duty", address="10.4.0.2").status_code == 200
        assert sign_in(api.client, "duty", "wrong", address="10.4.0.3").status_code == 401
        assert sign_in(api.client, "duty", address="10.4.0.4").status_code == 200  # one failure since: not slowed
        clock.shift(1)


def test_failures_from_one_address_slow_down_every_username_from_it(strict: Context, api: Api) -> None:
    set_password(strict, "duty")
    with time_machine.travel(utcnow(), tick=False):
        for name in ("a", "b"):
            assert sign_in(api.client, name, "wrong", address="10.5.0.1").status_code == 401
        refused = sign_in(api.client, "duty", address="10.5.0.1")
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
        assert sign_in(api.client, "duty", address="10.5.0.2").status_code == 200


def test_an_unknown_username_costs_the_same_argon2_work_as_a_wrong_password(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_password(api.ctx, "duty")
    real = passwords._HASHER
    calls: list[str] = []

    class Counting:
        def verify(self, stored: str, given: str) -> bool:
            calls.append(stored)
            return real.verify(stored, given)

    monkeypatch.setattr(passwords, "_HASHER", Counting())
    sign_in(api.client, "nobody-at-all", "guess", address="10.6.0.1")
    sign_in(api.client, "duty", "guess", address="10.6.0.2")
    assert len(calls) == 2 and calls[0] != calls[1]  # the dummy hash, then duty's: one verification each
