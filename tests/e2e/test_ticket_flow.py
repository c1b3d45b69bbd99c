"""Every path of the default flow over HTTP against gunicorn, the worker and an SMTP server as real processes."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def _open(stack: Stack, **fields: Any) -> str:
    body = {
        "client": "NORD-BANK",
        "contact_email": "it@nord-bank.example",
        "equipment_serial": "IBM-FS5200-0001",
        "channel": "email",
        "summary": "Array degraded",
        "severity": "high",
        "category": "hardware",
        **fields,
    }
    response = stack.call("POST", "/tickets", as_="duty", json=body)
    assert response.status_code == 201, response.text
    number = response.json()["number"]
    stack.wait_for(number, lambda t: t["status"] == "clarifying")
    return number


def _mails(stack: Stack, number: str) -> list[dict[str, Any]]:
    return [m for m in stack.smtp.messages() if number in m["subject"]]


def _wait_mail(stack: Stack, number: str, word: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [m for m in _mails(stack, number) if word in m["subject"].lower()]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no '{word}' e-mail for {number}: {[m['subject'] for m in _mails(stack, number)]}")


def test_every_path_of_the_flow(stack: Stack) -> None:
    clarify = {"description": "Controller B failed", "category": "hardware"}

    # contract -> solved at L1; the folder exists and its link reaches the client
    solved = _open(stack)
    ticket = stack.wait_for(solved, lambda t: t["folder_url"])
    assert (stack.files / solved).is_dir()
    opened = _wait_mail(stack, solved, "opened")
    assert opened["recipients"] == ["it@nord-bank.example"] and ticket["folder_url"] in opened["body"]
    stack.complete(solved, "clarify", clarify, as_="duty")
    assert stack.wait_for(solved, lambda t: t["team"] == "storage")["level"] == 1
    stack.complete(solved, "resolve", {"outcome": "solved", "hours": 1}, as_="storage.l1")
    stack.wait_for(solved, lambda t: t["status"] == "closed")
    _wait_mail(stack, solved, "closed")

    # per call: accepted, then declined
    for accepted in (True, False):
        number = _open(
            stack, client="NEW-CLIENT", contact_email="it@new-client.example", equipment_serial="CISCO-C9300-0005"
        )
        stack.complete(number, "clarify", {"description": "switch down"}, as_="duty")
        stack.wait_for(number, lambda t: t["status"] == "estimating")
        stack.complete(number, "estimate", {"diagnostics_cost": 12000}, as_="consultant")
        _wait_mail(stack, number, "estimate")
        stack.complete(number, "record_payment", {"accepted": accepted, "paid": accepted}, as_="duty")
        if accepted:
            assert stack.wait_for(number, lambda t: t["status"] == "in_progress")["paid"] is True
        else:
            stack.wait_for(number, lambda t: t["status"] == "declined")
            _wait_mail(stack, number, "declined")

    # parts with the parts_delivered message
    parts = _open(stack)
    stack.complete(parts, "clarify", clarify, as_="duty")
    stack.complete(parts, "resolve", {"outcome": "need_parts", "parts": "controller"}, as_="storage.l1")
    stack.complete(parts, "order_parts", {"source": "logistics", "eta": "2026-12-02"}, as_="rmc")
    stack.wait_for(parts, lambda t: t["status"] == "waiting_parts")
    message = {"name": "parts_delivered", "ticket": parts, "data": {"delivery_note": "D-7"}}
    assert stack.call("POST", "/messages", as_="rmc", json=message).status_code == 200
    stack.complete(parts, "onsite_visit", {"outcome": "solved", "hours": 2}, as_="storage.l1")
    stack.wait_for(parts, lambda t: t["status"] == "closed")

    # escalation: L2, L3, second circle, manager review
    escalated = _open(stack)
    stack.complete(escalated, "clarify", clarify, as_="duty")
    for engineer in ("storage.l1", "storage.l2", "storage.l3", "storage.l2", "storage.l3"):
        stack.complete(escalated, "resolve", {"outcome": "escalate"}, as_=engineer)
    stack.wait_for(escalated, lambda t: t["status"] == "manager_review")
    stack.complete(escalated, "manager_review", {"decision": "close"}, as_="manager")
    stack.wait_for(escalated, lambda t: t["status"] == "closed")
    _wait_mail(stack, escalated, "closed")
    # each client e-mail went out once
    subjects = [m["subject"] for m in _mails(stack, escalated) if m["recipients"] == ["it@nord-bank.example"]]
    assert len(subjects) == len(set(subjects)) == 2
