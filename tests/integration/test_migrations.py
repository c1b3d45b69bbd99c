"""Moving running tickets onto a newer version of their process through the API."""

from __future__ import annotations

import json
import re
from typing import Any

from service.worker import drain
from tests.conftest import ROOT
from tests.integration.conftest import Api
from tests.support.diagrams import insert_step, remove_step, replace_attribute, ticket_xml

FINAL_CHECK = '<bpmn:userTask id="final_check" name="Check before closing" camunda:candidateGroups="duty" />'
PER_CALL = {
    "client": "NEW-CLIENT",
    "contact_email": "it@new-client.example",
    "equipment_serial": "CISCO-C9300-0005",
    "category": "configuration",
}
ANSWERS: dict[str, dict[str, Any]] = {
    "clarify": {"description": "Controller B failed"},
    "estimate": {"diagnostics_cost": 12000},
    "record_payment": {"accepted": True, "paid": True},
    "resolve": {"outcome": "solved"},
    "order_parts": {"source": "warehouse"},
    "onsite_visit": {"outcome": "solved"},
    "manager_review": {"decision": "close"},
    "final_check": {},
}
ESCALATIONS = ("storage.l1", "storage.l2", "storage.l3", "storage.l2", "storage.l3")


def deploy(api: Api, xml: bytes) -> int:
    response = api.post("/process-definitions", as_="owner", data=xml, headers={"Content-Type": "application/xml"})
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["version"])


def migrate(api: Api, *, version: int = 2, as_: str = "owner", status: int = 200, **body: Any) -> Any:
    response = api.post("/migrations", as_=as_, json={"target": {"key": "ticket", "version": version}, **body})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def by_ticket(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["ticket"]: row for row in report["results"]}


def at(api: Api, position: str) -> str:
    """A new ticket brought to wait at `position` of the default flow."""
    number = api.open_ticket(**(PER_CALL if position in ("estimate", "record_payment") else {}))["number"]
    if position == "create_folder":
        return number  # its first job not run yet
    drain(api.ctx)
    if position == "clarify":
        return number
    api.complete(number, "clarify", ANSWERS["clarify"], as_="duty")
    if position == "record_payment":
        api.complete(number, "estimate", ANSWERS["estimate"], as_="consultant")
    if position in ("order_parts", "parts_delivered", "onsite_visit"):
        api.complete(number, "resolve", {"outcome": "need_parts"}, as_="storage.l1")
    if position in ("parts_delivered", "onsite_visit"):
        api.complete(number, "order_parts", ANSWERS["order_parts"], as_="rmc")
    if position == "onsite_visit":
        deliver(api, number)
    if position == "manager_review":
        for engineer in ESCALATIONS:
            api.complete(number, "resolve", {"outcome": "escalate"}, as_=engineer)
    return number


def deliver(api: Api, number: str) -> None:
    response = api.post("/messages", as_="rmc", json={"name": "parts_delivered", "ticket": number})
    assert response.status_code == 200, response.get_json()


def worker_for(group: str) -> str:
    fixed = {"duty": "duty", "consultants": "consultant", "rmc": "rmc", "managers": "manager"}
    if group in fixed:
        return fixed[group]
    team, level = group.split("-L")
    return f"{team}.l{level}"


def finish(api: Api, number: str) -> list[str]:
    """Answer every task until the ticket closes; the tasks answered, in order."""
    answered = []
    for _ in range(12):
        ticket = api.ticket(number)
        if ticket["status"] == "closed":
            return answered
        if ticket["status"] == "waiting_parts":
            deliver(api, number)
            continue
        [task] = ticket["open_tasks"]
        api.complete(number, task["name"], ANSWERS[task["name"]], as_=worker_for(task["candidate_groups"][0]))
        answered.append(task["name"])
    raise AssertionError(f"{number} did not close: {api.ticket(number)}")


POSITIONS = [
    "clarify",
    "estimate",
    "record_payment",
    "resolve",
    "order_parts",
    "parts_delivered",
    "onsite_visit",
    "manager_review",
]


def test_tickets_at_every_task_move_to_a_version_with_a_new_step(api: Api) -> None:
    numbers = {position: at(api, position) for position in POSITIONS}
    tasks = {number: api.ticket(number)["open_tasks"] for number in numbers.values()}
    assert deploy(api, insert_step(ticket_xml(), after="merge_closed", step=FINAL_CHECK)) == 2

    dry = migrate(api, filter={"from_version": 1}, dry_run=True)
    assert (dry["dry_run"], dry["would_migrate"], dry["migrated"], dry["refused"]) == (True, 8, 0, 0)
    rows = by_ticket(dry)
    assert set(rows) == set(numbers.values())
    for position, number in numbers.items():
        row = rows[number]
        assert (row["status"], row["from_version"], row["to_version"]) == ("would_migrate", 1, 2)
        assert row["position"] == [position]
        assert (row["added"], row["removed"], row["changed"]) == (["final_check"], [], [])
        assert api.ticket(number)["process_version"] == 1

    done = migrate(api, tickets=list(numbers.values()))
    assert (done["dry_run"], done["migrated"], done["refused"]) == (False, 8, 0)
    for position, number in numbers.items():
        ticket = api.ticket(number)
        assert ticket["process_version"] == 2
        assert ticket["open_tasks"] == tasks[number]  # the same tasks, ids and claims: nobody's work is lost
        history = api.history(number, as_="admin")
        [event] = [e for e in history if e["kind"] == "process_migrated"]
        assert (event["actor"], event["detail"]["from_version"], event["detail"]["to_version"]) == ("owner", 1, 2)
        answered = finish(api, number)
        assert answered[-1] == "final_check", (position, answered)
    assert api.get("/process-definitions/ticket/versions", as_="owner").get_json()["items"][1]["tickets_open"] == 0


def test_a_version_without_a_step_tickets_passed_is_refused_for_them_only(api: Api) -> None:
    passed = at(api, "resolve")
    starting = at(api, "create_folder")
    api.open_ticket()  # not drained either: also still at its first job
    assert deploy(api, remove_step(ticket_xml(), "notify_duty_officers")) == 2

    report = migrate(api, filter={})
    assert (report["migrated"], report["refused"]) == (2, 1)
    row = by_ticket(report)[passed]
    assert row["status"] == "refused" and row["from_version"] == 1
    assert row["reason"] == "notify_duty_officers (serviceTask), which the instance has passed, is not in this version"
    assert row["removed"] == ["notify_duty_officers"]
    assert api.ticket(passed)["process_version"] == 1
    assert not [e for e in api.history(passed, as_="admin") if "migrat" in e["kind"]]

    assert by_ticket(report)[starting]["position"] == ["create_folder"]
    drain(api.ctx)  # the job created under version 1 completes the task under version 2
    moved = api.ticket(starting)
    assert (moved["status"], moved["process_version"]) == ("clarifying", 2)
    finish(api, passed)  # the refused ticket goes on under version 1


def test_a_ticket_whose_open_task_now_asks_otherwise_is_refused(api: Api) -> None:
    at_resolve, at_clarify = at(api, "resolve"), at(api, "clarify")
    deploy(api, replace_attribute(ticket_xml(), "resolve", "camunda:candidateGroups", "${team}-L${level},managers"))

    only_storage = migrate(api, filter={"team": "storage"}, dry_run=True)
    assert list(by_ticket(only_storage)) == [at_resolve]
    assert by_ticket(only_storage)[at_resolve]["reason"] == (
        "resolve, which the instance sits on, changed its candidate groups"
    )
    report = migrate(api, filter={"status": "clarifying"})
    assert by_ticket(report)[at_clarify]["status"] == "migrated"
    assert api.ticket(at_resolve)["process_version"] == 1
    api.complete(at_clarify, "clarify", ANSWERS["clarify"], as_="duty")
    assert api.ticket(at_clarify)["open_tasks"][0]["candidate_groups"] == ["managers", "storage-L1"]


def test_refusals_of_single_tickets_and_of_the_request(api: Api) -> None:
    closed = at(api, "resolve")
    api.complete(closed, "resolve", {"outcome": "solved"}, as_="storage.l1")
    running = at(api, "clarify")
    deploy(api, insert_step(ticket_xml(), after="merge_closed", step=FINAL_CHECK))

    report = migrate(api, tickets=[closed, running, "SD-999999", running], dry_run=True)
    rows = by_ticket(report)
    assert [row["ticket"] for row in report["results"]] == [closed, running, "SD-999999"]
    assert (rows[closed]["status"], rows[closed]["reason"]) == ("refused", "the ticket's process has ended")
    assert rows[running]["status"] == "would_migrate"
    assert rows["SD-999999"]["reason"] == "no ticket SD-999999"
    assert by_ticket(migrate(api, tickets=[running]))[running]["status"] == "migrated"
    again = by_ticket(migrate(api, tickets=[running]))[running]
    assert (again["status"], again["reason"]) == ("refused", "the ticket already runs version 2")
    back = by_ticket(migrate(api, version=1, tickets=[running], dry_run=True))[running]
    assert back["status"] == "would_migrate" and back["removed"] == ["final_check"]

    assert migrate(api, version=9, tickets=[running], status=404)["title"] == "Not found"
    both = migrate(api, tickets=[running], filter={}, status=422)
    assert "tickets" in both["errors"]
    migrate(api, status=422)
    migrate(api, tickets=[running], as_="analyst", status=403)
    migrate(api, tickets=[running], as_="duty", status=403)


def test_the_requests_shown_in_the_process_owners_guide_fit(api: Api) -> None:
    text = (ROOT / "docs" / "process-owners.md").read_text(encoding="utf-8")
    shown = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, flags=re.S)]
    requests = [block for block in shown if "target" in block]
    assert len(requests) == 2
    deploy(api, insert_step(ticket_xml(), after="merge_closed", step=FINAL_CHECK))
    for body in requests:
        response = api.post("/migrations", as_="owner", json=body)
        assert response.status_code == 200, response.get_json()
