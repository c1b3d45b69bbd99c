"""A new client, its equipment of a new class and its contract, a new team and its routing rule, and a new engineer,
all made over HTTP against gunicorn and the worker as real processes; the ticket that follows is entitled by the new
contract and lands in the new team's queue, and deactivating the engineer stops their token and session at once."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from service.context import Context
from service.db import transaction
from service.demo import set_demo_passwords
from tests.e2e.conftest import Stack
from tests.support.rules import rule_text

pytestmark = pytest.mark.e2e

CLIENT = "VOLTA-POWER"
SERIAL = "APC-SRT10K-0001"
CONTRACT = "VP-2026-01"
CONTACT = "it@volta-power.example"
ENGINEER = "power.l1"
PASSWORD = "ups never sleep 42"


def _login(stack: Stack, username: str, password: str) -> requests.Response:
    """Sign in with a password, asking for a bearer token as well."""
    body = {"username": username, "password": password, "token": True, "token_name": "e2e"}
    return requests.post(f"{stack.base}/api/v1/auth/login", json=body, timeout=30)


def _sign_in(stack: Stack, username: str, password: str = "demo") -> requests.Response:
    """Sign in and let `stack.call(..., as_=username)` use the token the sign-in answered."""
    response = _login(stack, username, password)
    assert response.status_code == 200, response.text
    stack.tokens[username] = response.json()["token"]
    return response


def _created(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _with_class(text: str) -> str:
    """A shipped ruleset whose `equipment_class` fact also knows `ups`."""
    changed = text.replace('enum: [storage, servers, network, ""]', 'enum: [storage, servers, network, ups, ""]')
    assert changed != text
    return changed


def _routing_with_power() -> str:
    """The shipped routing, knowing `ups` and the team `power`, with a rule sending `ups` to power L1 first."""
    text = _with_class(rule_text("routing"))
    teams = text.replace(
        "team: {type: string, enum: [storage, servers, network]}",
        "team: {type: string, enum: [storage, servers, network, power]}",
    )
    assert teams != text
    rule = (
        "  - name: power on site\n    priority: 10\n    when:\n      equipment_class: ups\n"
        "    then: {team: power, level: 1}\n\n"
    )
    return teams.replace("rules:\n", f"rules:\n{rule}", 1)


def _publish(stack: Stack, name: str, text: str) -> None:
    response = stack.call(
        "PUT", f"/rulesets/{name}", as_="analyst", data=text.encode(), headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 201, response.text


def _task(stack: Stack, number: str, name: str, *, as_: str) -> dict[str, Any]:
    """The ticket's task of that name once it shows in the caller's queue (the worker runs jobs in its own time)."""
    deadline = time.monotonic() + 30
    while not (tasks := stack.call("GET", f"/tasks?ticket={number}&name={name}", as_=as_).json()["items"]):
        assert time.monotonic() < deadline, f"{as_} has no {name} task for {number}"
        time.sleep(0.1)
    task: dict[str, Any] = tasks[0]
    return task


def _invitation_link(stack: Stack, email: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for mail in stack.smtp.messages():
            if mail["recipients"] == [email] and (found := re.search(r"password\?token=([\w-]+)", mail["body"])):
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no invitation mailed to {email}")


def test_a_client_team_and_engineer_made_over_http_take_a_ticket_and_deactivation_stops_the_engineer(
    stack: Stack, ctx: Context
) -> None:
    with transaction(ctx.sessions) as session:  # what `orchestrator demo` does: every demo user's password is `demo`
        set_demo_passwords(session)
    _sign_in(stack, "admin")

    # the directory: client, site, the team that brings the class `ups`, equipment, contract, contact
    _created(
        stack.call(
            "POST",
            "/clients",
            as_="admin",
            json={"code": CLIENT, "name": "Вольта Энерджи", "inn": "7707083893", "sector": "industry"},
        )
    )
    site = {
        "code": "VP-HQ",
        "name": "Head office",
        "address": "Lenina 1",
        "city": "Kazan",
        "time_zone": "Europe/Moscow",
    }
    _created(stack.call("POST", f"/clients/{CLIENT}/sites", as_="admin", json=site))
    team = _created(
        stack.call("POST", "/teams", as_="admin", json={"code": "power", "name": "Power", "classes": ["ups"]})
    )
    assert team["classes"] == ["ups"]
    item = {
        "serial": SERIAL,
        "client": CLIENT,
        "site": "VP-HQ",
        "vendor": "APC",
        "model": "Smart-UPS SRT 10000",
        "equipment_class": "ups",
    }
    assert _created(stack.call("POST", "/equipment", as_="admin", json=item))["equipment_class"] == "ups"
    contract = {
        "number": CONTRACT,
        "client": CLIENT,
        "starts_on": (date.today() - timedelta(days=30)).isoformat(),
        "ends_on": (date.today() + timedelta(days=365)).isoformat(),
        "covers": ["ups"],
        "service_level": "gold",
    }
    assert _created(stack.call("POST", "/contracts", as_="admin", json=contract))["covers"] == ["ups"]
    contact = {"email": CONTACT, "name": "Ирина Смирнова", "language": "ru"}
    _created(stack.call("POST", f"/clients/{CLIENT}/contacts", as_="admin", json=contact))

    # the engineer: an account in the team's first-level group, and a first password set from the invitation
    person = {
        "username": ENGINEER,
        "name": "Pavel Power",
        "email": "power.l1@desk.example",
        "roles": ["engineer"],
        "groups": ["power-L1"],
    }
    _created(stack.call("POST", "/users", as_="admin", json=person))
    assert stack.call("POST", "/auth/invitations", as_="admin", json={"username": ENGINEER}).status_code == 202
    link = _invitation_link(stack, "power.l1@desk.example")
    confirmed = requests.post(
        f"{stack.base}/api/v1/auth/password-reset/confirm", json={"token": link, "password": PASSWORD}, timeout=30
    )
    assert confirmed.status_code == 204, confirmed.text

    # the analyst makes the class known to entitlement and routes it to power L1
    _sign_in(stack, "analyst")
    _publish(stack, "entitlement", _with_class(rule_text("entitlement")))
    _publish(stack, "routing", _routing_with_power())
    time.sleep(1.5)  # each process looks for a new active version every second (ORCHESTRATOR_RULES_REFRESH_SECONDS)

    # the duty officer opens and clarifies a ticket for the item
    _sign_in(stack, "duty")
    opened = {
        "client": CLIENT,
        "contact_email": CONTACT,
        "equipment_serial": SERIAL,
        "channel": "phone",
        "summary": "UPS on battery",
        "severity": "high",
        "category": "hardware",
    }
    number = _created(stack.call("POST", "/tickets", as_="duty", json=opened))["number"]
    clarify = _task(stack, number, "clarify", as_="duty")
    done = stack.call("POST", f"/tasks/{clarify['id']}/complete", as_="duty", json={"data": {"description": "alarm"}})
    assert done.status_code == 200, done.text
    ticket = stack.wait_for(number, lambda t: t["team"] == "power")
    assert ticket["level"] == 1
    decisions = {d["ruleset"]: d for d in ticket["decisions"]}
    assert decisions["entitlement"]["outcome"]["route"] == "contract"
    assert decisions["entitlement"]["outcome"]["contract"] == CONTRACT
    assert decisions["routing"]["rule"] == "power on site"

    # the engineer signs in with their password, sees the resolve task in power-L1 and claims it
    signed = _sign_in(stack, ENGINEER, PASSWORD)
    resolve = _task(stack, number, "resolve", as_=ENGINEER)
    assert resolve["candidate_groups"] == ["power-L1"]
    claimed = stack.call("POST", f"/tasks/{resolve['id']}/claim", as_=ENGINEER)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["claimed_by"] == ENGINEER

    # deactivated: the very next request with the token, and with the session cookie, is refused
    cookies = {name: signed.cookies[name] for name in signed.cookies.keys()}
    csrf = {"X-CSRF-Token": signed.json()["csrf_token"]}
    by_cookie = requests.get(f"{stack.base}/api/v1/tasks", cookies=cookies, headers=csrf, timeout=30)
    assert by_cookie.status_code == 200, by_cookie.text
    etag = stack.call("GET", f"/users/{ENGINEER}", as_="admin").headers["ETag"]
    off = stack.call("PATCH", f"/users/{ENGINEER}", as_="admin", json={"active": False}, headers={"If-Match": etag})
    assert off.status_code == 200, off.text
    assert stack.call("GET", "/tasks", as_=ENGINEER).status_code == 401
    by_cookie = requests.get(f"{stack.base}/api/v1/tasks", cookies=cookies, headers=csrf, timeout=30)
    assert by_cookie.status_code == 401
    assert _login(stack, ENGINEER, PASSWORD).status_code == 401
