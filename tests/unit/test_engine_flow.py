"""Every path of the default flow (processes/ticket.bpmn), driven through the engine API."""

from __future__ import annotations

import pytest

from service.engine import DecisionTaken, TaskCompleted
from tests.unit.test_engine_helpers import Driver, FakeRules, ticket_definition

INTAKE = ["files.create_folder", "mail.ticket_opened", "notify.duty_officers"]


@pytest.fixture(scope="module")
def definition():
    return ticket_definition()


def clarify(driver: Driver) -> None:
    task = driver.task("clarify")
    assert task.candidate_groups == ("duty",)
    assert task.title == "Clarify ticket details"
    assert [f.id for f in task.form_fields] == ["description", "severity", "category", "equipment_serial"]
    driver.complete("clarify", {"description": "Array reports two failed disks", "severity": "critical"})


def test_definition_declares_what_the_service_deploys(definition):
    assert definition.key == "ticket"
    assert definition.name == "Service ticket"
    assert definition.topics == {
        "files.create_folder",
        "mail.ticket_opened",
        "notify.duty_officers",
        "mail.estimate",
        "mail.ticket_declined",
        "mail.ticket_closed",
    }
    assert definition.decision_refs == {"entitlement", "routing", "escalation"}
    assert definition.user_tasks == {
        "clarify",
        "estimate",
        "record_payment",
        "resolve",
        "order_parts",
        "onsite_visit",
        "manager_review",
    }
    assert definition.messages == {"parts_delivered"}


def test_contract_ticket_solved_at_level_1(definition):
    rules = FakeRules(route="contract")
    driver = Driver(definition, rules)
    assert driver.topics == INTAKE
    assert driver.open_tasks() == ["clarify"]
    assert driver.run.data["folder_url"] == "file:///srv/tickets/SD-000001"

    clarify(driver)
    resolve = driver.task("resolve")
    assert resolve.candidate_groups == ("storage-L1",)
    assert resolve.priority == 90  # critical, from the ${...} priority expression
    assert driver.run.data["description"] == "Array reports two failed disks"
    assert driver.run.data["route"] == "contract"

    driver.complete("resolve", {"outcome": "solved", "notes": "Replaced disks", "hours": 2.5})
    assert driver.run.completed
    assert driver.topics == [*INTAKE, "mail.ticket_closed"]
    data = driver.run.data
    assert (data["status"], data["team"], data["level"], data["circle"]) == ("closed", "storage", 1, 1)
    assert data["paid"] is False
    assert data["hours"] == 2.5
    assert "end_closed" in driver.completed_elements()

    decisions = [e for e in driver.events if isinstance(e, DecisionTaken)]
    assert [(d.element_id, d.ruleset) for d in decisions] == [("entitlement", "entitlement"), ("routing", "routing")]
    assert decisions[0].outcome == {"route": "contract", "reason": "fake contract"}
    assert decisions[0].rule == "entitlement.contract" and decisions[0].version == "v1"
    facts = rules.facts_of("entitlement")[0]
    assert facts["contract_status"] == "active" and facts["description"] == "Array reports two failed disks"
    assert driver.run.user_tasks() == [] and driver.run.external_tasks() == []


def test_per_call_accepted_and_paid_goes_to_routing(definition):
    driver = Driver(definition, FakeRules(route="per_call"))
    clarify(driver)
    estimate = driver.task("estimate")
    assert estimate.candidate_groups == ("consultants",)
    driver.complete("estimate", {"diagnostics_cost": 150, "repair_cost": 400.5, "notes": "from the price list"})
    assert driver.topics[-1] == "mail.estimate"

    assert driver.task("record_payment").candidate_groups == ("duty",)
    driver.complete("record_payment", {"accepted": True, "paid": True})
    assert driver.run.data["paid"] is True
    assert driver.open_tasks() == ["resolve"]

    driver.complete("resolve", {"outcome": "solved"})
    assert driver.run.completed
    assert driver.run.data["status"] == "closed"
    assert driver.run.data["paid"] is True


@pytest.mark.parametrize("answer", [{"accepted": False}, {"accepted": True, "paid": False}, {"accepted": True}])
def test_per_call_declined_or_unpaid_ends_declined(definition, answer):
    rules = FakeRules(route="per_call")
    driver = Driver(definition, rules)
    clarify(driver)
    driver.complete("estimate", {"diagnostics_cost": 150})
    driver.complete("record_payment", answer)
    assert driver.run.completed
    assert driver.run.data["status"] == "declined"
    assert driver.run.data["paid"] is False
    assert driver.topics[-1] == "mail.ticket_declined"
    assert "end_declined" in driver.completed_elements()
    assert rules.facts_of("routing") == []


def test_parts_ordered_then_delivered_by_message(definition):
    driver = Driver(definition, FakeRules())
    clarify(driver)
    driver.complete("resolve", {"outcome": "need_parts", "parts": "2 x 600GB SAS disk"})
    order = driver.task("order_parts")
    assert order.candidate_groups == ("rmc",)
    assert driver.run.waiting_messages() == []

    driver.complete("order_parts", {"source": "warehouse", "order_ref": "WH-77", "eta": "2024-06-03"})
    assert driver.open_tasks() == []
    assert driver.run.waiting_messages() == ["parts_delivered"]
    assert driver.run.send_message("invoice_paid", {}) is False

    assert driver.run.send_message("parts_delivered", {"delivery_note": "DN-1"}) is True
    driver.advance()
    assert driver.run.waiting_messages() == []
    assert driver.run.send_message("parts_delivered", {}) is False
    visit = driver.task("onsite_visit")
    assert visit.candidate_groups == ("storage-L1",)
    assert driver.run.data["delivery_note"] == "DN-1"
    assert driver.run.data["eta"] == "2024-06-03"

    driver.complete("onsite_visit", {"outcome": "solved", "hours": 3})
    assert driver.run.completed
    assert driver.run.data["status"] == "closed"
    assert "parts_delivered" in driver.completed_elements()


def test_onsite_visit_can_escalate(definition):
    driver = Driver(definition, FakeRules())
    clarify(driver)
    driver.complete("resolve", {"outcome": "need_parts"})
    driver.complete("order_parts", {"source": "logistics"})
    driver.run.send_message("parts_delivered", {})
    driver.advance()
    driver.complete("onsite_visit", {"outcome": "escalate"})
    assert driver.task("resolve").candidate_groups == ("storage-L2",)
    assert driver.run.data["level"] == 2


def test_escalation_levels_second_circle_and_manager_review(definition):
    rules = FakeRules(max_level=3, second_circles=1)
    driver = Driver(definition, rules)
    clarify(driver)
    seen = []
    for _ in range(4):  # L1 -> L2 -> L3 -> second circle (L3, circle 2) -> manager review
        seen.append((driver.task("resolve").candidate_groups, driver.run.data["circle"]))
        driver.complete("resolve", {"outcome": "escalate", "notes": "not solved here"})
    assert seen == [(("storage-L1",), 1), (("storage-L2",), 1), (("storage-L3",), 1), (("storage-L3",), 2)]
    actions = [e.outcome["action"] for e in driver.events if isinstance(e, DecisionTaken) and e.ruleset == "escalation"]
    assert actions == ["next_level", "next_level", "second_circle", "manager_review"]
    assert [f["level"] for f in rules.facts_of("escalation")] == [1, 2, 3, 3]
    assert rules.facts_of("escalation")[0]["team"] == "storage"

    review = driver.task("manager_review")
    assert review.candidate_groups == ("managers",)
    driver.complete("manager_review", {"decision": "continue"})
    assert driver.run.data["circle"] == 3
    assert driver.task("resolve").candidate_groups == ("storage-L3",)

    driver.complete("resolve", {"outcome": "escalate"})
    driver.complete("manager_review", {"decision": "close", "notes": "client agreed"})
    assert driver.run.completed
    assert driver.run.data["status"] == "closed"
    assert driver.topics[-1] == "mail.ticket_closed"
    completed = [e for e in driver.events if isinstance(e, TaskCompleted)]
    assert completed[-1] == TaskCompleted("end_closed", "endEvent")
