"""Every path of the default flow through the API, with the real engine, rules, database and SMTP server."""

from __future__ import annotations

from service.worker import drain
from tests.integration.conftest import Api

CLARIFY = {"description": "Controller B failed", "severity": "high", "category": "hardware"}


def test_contract_ticket_solved_at_l1(api: Api, smtp_server) -> None:  # type: ignore[no-untyped-def]
    ticket = api.open_ticket()
    number = ticket["number"]
    assert number.startswith("SD-")
    assert ticket["status"] == "new"
    assert drain(api.ctx) == 3  # folder, client e-mail, duty officers
    opened = api.ticket(number)
    assert opened["status"] == "clarifying"
    assert opened["folder_url"] == f"https://files.test/tickets/{number}"
    mails = smtp_server.wait_for_count(2)
    to_client = [m for m in mails if "it@nord-bank.example" in m.recipients]
    assert len(to_client) == 1
    assert number in to_client[0].subject
    assert opened["folder_url"] in to_client[0].body
    assert any("duty@orchestrator.example" in m.recipients for m in mails)

    api.complete(number, "clarify", CLARIFY, as_="duty")
    routed = api.ticket(number)
    assert routed["route"] == "contract"
    assert (routed["team"], routed["level"], routed["circle"]) == ("storage", 1, 1)
    assert routed["status"] == "in_progress"
    assert [d["ruleset"] for d in routed["decisions"]] == ["entitlement", "routing"]
    assert all(d["version"] == "1" and d["rule"] for d in routed["decisions"])

    api.complete(number, "resolve", {"outcome": "solved", "hours": 2.5, "notes": "replaced cable"}, as_="storage.l1")
    closed = api.ticket(number)
    assert closed["status"] == "closed"
    assert closed["closed_at"]
    assert closed["open_tasks"] == []
    assert any("closed" in m.subject.lower() for m in smtp_server.wait_for_count(3))
    kinds = [event["kind"] for event in api.history(number, as_="admin")]
    assert kinds[0] == "ticket_opened"
    assert "decision" in kinds and "task_completed" in kinds and kinds.count("job_done") == 4


def _per_call(api: Api) -> str:
    number = api.open_ticket(
        client="NEW-CLIENT",
        contact_email="it@new-client.example",
        equipment_serial="CISCO-C9300-0005",
        category="configuration",
    )["number"]
    drain(api.ctx)
    api.complete(number, "clarify", {"description": "VLAN lost", "category": "configuration"}, as_="duty")
    ticket = api.ticket(number)
    assert ticket["route"] == "per_call" and ticket["status"] == "estimating"
    assert ticket["decisions"][0]["outcome"]["reason"]
    assert ticket["decisions"][0]["facts"]["contract_status"] == "none"
    estimate = api.get(f"/tasks/{api.task(number, 'estimate', as_='consultant')['id']}", as_="consultant").get_json()
    prices = {line["item"]: line["price"] for line in estimate["price_list"]}
    assert prices["diagnostics"] == "12000.00" and "transceiver" in prices
    api.complete(number, "estimate", {"diagnostics_cost": 12000, "repair_cost": 8000, "notes": "2 h"}, as_="consultant")
    return number


def test_per_call_accepted_goes_on_to_routing(api: Api, smtp_server) -> None:  # type: ignore[no-untyped-def]
    number = _per_call(api)
    assert any("Estimate" in m.subject and "12,000.00" in m.body for m in smtp_server.messages)
    api.complete(number, "record_payment", {"accepted": True, "paid": True}, as_="duty")
    ticket = api.ticket(number)
    assert ticket["paid"] is True
    assert (ticket["team"], ticket["level"], ticket["status"]) == ("network", 2, "in_progress")
    api.complete(number, "resolve", {"outcome": "solved"}, as_="network.l2")
    assert api.ticket(number)["status"] == "closed"


def test_per_call_declined_closes_the_ticket(api: Api, smtp_server) -> None:  # type: ignore[no-untyped-def]
    number = _per_call(api)
    api.complete(number, "record_payment", {"accepted": False}, as_="duty")
    ticket = api.ticket(number)
    assert ticket["status"] == "declined" and ticket["paid"] is False
    assert any("declined" in m.subject.lower() and number in m.subject for m in smtp_server.messages)


def test_parts_wait_for_the_delivery_message(api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    api.complete(number, "clarify", CLARIFY, as_="duty")
    api.complete(number, "resolve", {"outcome": "need_parts", "parts": "controller"}, as_="storage.l1")
    assert api.ticket(number)["status"] == "ordering_parts"
    api.complete(number, "order_parts", {"source": "warehouse", "order_ref": "W-1", "eta": "2026-12-01"}, as_="rmc")
    assert api.ticket(number)["status"] == "waiting_parts"
    early = api.post("/messages", as_="rmc", json={"name": "no_such_message", "ticket": number})
    assert early.status_code == 404
    delivered = api.post("/messages", as_="rmc", json={"name": "parts_delivered", "ticket": number, "data": {}})
    assert delivered.status_code == 200, delivered.get_json()
    assert api.ticket(number)["status"] == "onsite"
    again = api.post("/messages", as_="rmc", json={"name": "parts_delivered", "ticket": number})
    assert again.status_code == 404
    api.complete(number, "onsite_visit", {"outcome": "solved", "hours": 3}, as_="storage.l1")
    assert api.ticket(number)["status"] == "closed"


def test_escalation_through_levels_second_circle_and_manager_review(api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    api.complete(number, "clarify", CLARIFY, as_="duty")
    seen = []
    for engineer in ("storage.l1", "storage.l2", "storage.l3", "storage.l2", "storage.l3"):
        api.complete(number, "resolve", {"outcome": "escalate"}, as_=engineer)
        ticket = api.ticket(number)
        seen.append((ticket["level"], ticket["circle"], ticket["status"]))
    assert seen == [
        (2, 1, "in_progress"),
        (3, 1, "in_progress"),
        (2, 2, "in_progress"),
        (3, 2, "in_progress"),
        (3, 2, "manager_review"),
    ]
    api.complete(number, "manager_review", {"decision": "continue"}, as_="manager")
    ticket = api.ticket(number)
    assert (ticket["status"], ticket["circle"]) == ("in_progress", 3)
    api.complete(number, "resolve", {"outcome": "escalate"}, as_="storage.l3")
    api.complete(number, "manager_review", {"decision": "close", "notes": "vendor case"}, as_="manager")
    assert api.ticket(number)["status"] == "closed"
    escalations = [d for d in api.ticket(number)["decisions"] if d["ruleset"] == "escalation"]
    assert len(escalations) == 6
