"""Processes beside the ticket flow: started through the API, by their timer start event or by a message, with
their jobs run by the worker although they belong to no ticket."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from service.db import transaction
from service.jobs.models import Job
from service.processes.models import ProcessDefinition
from service.timers import firing
from service.timers.firing import run_due_timer
from service.timers.models import DROPPED, FIRED, WAITING
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.starts import cycle, side_process, start_rows

XML = {"Content-Type": "application/xml"}
SIDE = "side-task"
RETURNED = (
    '<bpmn:extensionElements><camunda:properties><camunda:property name="variables" value="serial" />'
    '<camunda:property name="senders" value="duty" /></camunda:properties></bpmn:extensionElements>'
    '<bpmn:messageEventDefinition messageRef="m_returned" />'
)
MESSAGE = '<bpmn:message id="m_returned" name="equipment_returned" />'


def deploy(api: Api, xml: bytes) -> None:
    response = api.post("/process-definitions", as_="owner", data=xml, headers=XML)
    assert response.status_code == 201, response.get_json()


def start(api: Api, key: str, body: dict[str, Any], *, as_: str = "owner") -> Any:
    return api.post(f"/process-definitions/{key}/start", as_=as_, json=body)


def instances_of(api: Api, key: str) -> list[dict[str, Any]]:
    response = api.get(f"/process-instances?key={key}&page_size=100", as_="owner")
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["items"])


def jobs_of(api: Api, instance_id: int) -> list[Job]:
    with transaction(api.ctx.sessions) as session:
        jobs = list(session.scalars(select(Job).where(Job.instance_id == instance_id)))
        session.expunge_all()
    return jobs


def test_a_process_started_through_the_api_runs_its_job_without_a_ticket(api: Api) -> None:
    deploy(api, side_process(SIDE))
    response = start(api, SIDE, {"variables": {"reason": "audit"}})
    assert response.status_code == 201, response.get_json()
    started = response.get_json()
    assert (started["key"], started["version"], started["state"], started["ticket"]) == (SIDE, 1, "running", None)
    assert started["started_by"] == "owner" and started["ticket_flow"] is False
    [job] = jobs_of(api, started["id"])
    assert (job.topic, job.ticket_id, job.variables["reason"]) == ("maintenance.open_due", None, "audit")
    drain(api.ctx)
    followed = api.get(f"/process-instances/{started['id']}", as_="analyst").get_json()
    assert followed["state"] == "completed"
    assert [item["id"] for item in instances_of(api, SIDE)] == [started["id"]]


def test_a_process_started_for_a_ticket_belongs_to_it_and_leaves_its_flow_alone(api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    before = api.ticket(number)
    deploy(api, side_process(SIDE))
    assert start(api, SIDE, {"ticket": number}).status_code == 422  # a ticket the process owner does not see
    response = start(api, SIDE, {"ticket": number}, as_="admin")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["ticket"] == number
    drain(api.ctx)
    after = api.ticket(number)
    assert (after["status"], after["open_tasks"]) == (before["status"], before["open_tasks"])
    assert api.get(f"/process-instances/{response.get_json()['id']}", as_="owner").get_json()["state"] == "completed"


def test_refused_starts(api: Api) -> None:
    deploy(api, side_process(SIDE))
    assert start(api, "nowhere", {}).status_code == 404
    assert start(api, SIDE, {"variables": [1, 2]}).status_code == 422
    unknown = start(api, SIDE, {"ticket": "SD-999999"})
    assert unknown.status_code == 422 and "ticket" in unknown.get_json()["errors"]
    assert start(api, SIDE, {}, as_="duty").status_code == 403
    assert start(api, SIDE, {}, as_="analyst").status_code == 403
    assert start(api, "ticket", {}).status_code == 409
    assert start(api, SIDE, {}, as_="admin").status_code == 201
    assert api.get("/process-instances/999999", as_="owner").status_code == 404
    assert api.get("/process-instances", as_="duty").status_code == 403


def test_the_list_of_instances_pages_newest_first(api: Api) -> None:
    deploy(api, side_process(SIDE))
    ids = [start(api, SIDE, {}).get_json()["id"] for _ in range(3)]
    first = api.get(f"/process-instances?key={SIDE}&page_size=2", as_="owner").get_json()
    rest = api.get(f"/process-instances?key={SIDE}&page_size=2&cursor={first['next']}", as_="owner").get_json()
    assert [i["id"] for i in first["items"] + rest["items"]] == ids[::-1]
    assert rest["next"] is None
    assert api.get("/process-instances?key=ticket", as_="owner").get_json()["items"] == []  # the flow is the ticket's


def test_a_timer_start_event_starts_one_instance_per_moment_however_often_the_worker_fires(api: Api) -> None:
    deploy(api, side_process(SIDE, start=cycle("R3/PT1H")))
    [row] = start_rows(api.ctx)
    assert (row.element_id, row.kind, row.state, row.instance_id) == ("begin", "timeCycle", WAITING, None)
    assert run_due_timer(api.ctx, now=row.due_at - timedelta(seconds=1)) is None  # not yet
    fired = run_due_timer(api.ctx, now=row.due_at, worker="one")
    assert fired is not None and fired.outcome == "fired"
    assert run_due_timer(api.ctx, now=row.due_at, worker="two") is None  # the same moment, another worker
    assert run_due_timer(api.ctx, now=row.due_at, worker="one") is None  # and the same worker again
    [started] = instances_of(api, SIDE)
    assert (started["started_by"], started["ticket"]) == ("timer", None)
    [moved] = start_rows(api.ctx)
    assert (moved.state, moved.fired_count, moved.due_at) == (WAITING, 1, row.due_at + timedelta(hours=1))
    late = moved.due_at + timedelta(hours=5)  # a worker back after hours starts one instance, not one per hour
    assert run_due_timer(api.ctx, now=late) is not None and run_due_timer(api.ctx, now=late) is None
    assert len(instances_of(api, SIDE)) == 2
    [again] = start_rows(api.ctx)
    assert again.due_at > late and again.fired_count == 2
    assert run_due_timer(api.ctx, now=again.due_at) is not None  # the third and last of R3
    assert [r.state for r in start_rows(api.ctx)] == [FIRED]
    assert run_due_timer(api.ctx, now=again.due_at + timedelta(days=30)) is None
    assert len(instances_of(api, SIDE)) == 3
    drain(api.ctx)
    assert {item["state"] for item in instances_of(api, SIDE)} == {"completed"}


def test_a_new_version_replaces_the_schedule_of_the_old(api: Api) -> None:
    deploy(api, side_process(SIDE, start=cycle("R/PT1H")))
    deploy(api, side_process(SIDE, start=cycle("R/PT2H")))
    old, new = start_rows(api.ctx)
    assert (old.state, new.state) == (DROPPED, WAITING)
    with transaction(api.ctx.sessions) as session:
        versions = dict(session.execute(select(ProcessDefinition.id, ProcessDefinition.version)).tuples().all())
    assert (versions[old.definition_id or 0], versions[new.definition_id or 0]) == (1, 2)
    assert run_due_timer(api.ctx, now=new.due_at) is not None
    [started] = instances_of(api, SIDE)
    assert started["version"] == 2
    assert run_due_timer(api.ctx, now=new.due_at + timedelta(days=1)) is not None  # the new cycle, not the old
    assert len(instances_of(api, SIDE)) == 2


def test_a_start_timer_must_be_literal(api: Api) -> None:
    response = api.post(
        "/process-definitions", as_="owner", data=side_process(SIDE, start=cycle("${every}")), headers=XML
    )
    assert response.status_code == 422
    assert "literal" in response.get_json()["detail"]
    assert start_rows(api.ctx) == []


def test_a_message_no_instance_waits_for_starts_the_process_that_catches_it(api: Api) -> None:
    deploy(api, side_process(SIDE, start=RETURNED, extra=MESSAGE))
    sent = api.post("/messages", as_="duty", json={"name": "equipment_returned", "data": {"serial": "S-1"}})
    assert sent.status_code == 200, sent.get_json()
    instance = sent.get_json()["instance"]
    assert sent.get_json()["ticket"] is None
    [job] = jobs_of(api, instance)
    assert job.variables["serial"] == "S-1"
    number = api.open_ticket()["number"]
    drain(api.ctx)
    for_ticket = api.post("/messages", as_="duty", json={"name": "equipment_returned", "ticket": number})
    assert for_ticket.status_code == 200, for_ticket.get_json()
    followed = api.get(f"/process-instances/{for_ticket.get_json()['instance']}", as_="owner").get_json()
    assert followed["ticket"] == number and followed["key"] == SIDE
    assert [t["name"] for t in api.ticket(number)["open_tasks"]] == ["clarify"]  # its own flow did not move


def test_refused_message_starts(api: Api) -> None:
    deploy(api, side_process(SIDE, start=RETURNED, extra=MESSAGE))
    assert api.post("/messages", as_="duty", json={"name": "nobody_waits"}).status_code == 404
    undeclared = api.post("/messages", as_="duty", json={"name": "equipment_returned", "data": {"price": 1}})
    assert undeclared.status_code == 422 and "price" in undeclared.get_json()["errors"]
    assert api.post("/messages", as_="manager", json={"name": "equipment_returned"}).status_code == 403
    assert instances_of(api, SIDE) == []


def test_a_worker_whose_lease_ran_out_does_not_start_the_instance_again(api: Api) -> None:
    deploy(api, side_process(SIDE, start=cycle("R/PT1H")))
    [row] = start_rows(api.ctx)
    assert firing._claim(api.ctx, "slow", row.due_at) == (row.id, True)  # the slow worker holds it, then stalls
    later = row.due_at + timedelta(seconds=api.ctx.config.job_lease_seconds + 1)
    assert firing._claim(api.ctx, "quick", later) == (row.id, True)  # its lease ran out: another worker takes it
    assert firing._fire(api.ctx, row.id, "slow", later) == "skipped"  # the slow one wakes: the row is not its own
    assert firing._fire(api.ctx, row.id, "quick", later) == "fired"
    assert firing._fire(api.ctx, row.id, "quick", later) == "skipped"
    assert len(instances_of(api, SIDE)) == 1


def test_a_job_of_an_instance_without_a_ticket_that_keeps_failing_is_an_incident_to_retry(api: Api) -> None:
    deploy(api, side_process(SIDE, topic="files.create_folder"))  # a ticket's topic: without one it fails
    instance = start(api, SIDE, {}).get_json()["id"]
    drain(api.ctx)
    [incident] = api.get("/incidents", as_="duty").get_json()["items"]
    assert (incident["ticket"], incident["instance"], incident["kind"]) == (None, instance, "job")
    assert "belongs to none" in incident["last_error"]
    retried = api.post(f"/incidents/{incident['id']}/retry", as_="owner")
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["state"] == "resolved"
    [job] = jobs_of(api, instance)
    assert job.status == "pending" and job.attempts == 0  # queued again with a fresh count
    drain(api.ctx)
    assert [i["instance"] for i in api.get("/incidents", as_="duty").get_json()["items"]] == [instance]


def test_a_failed_step_of_an_instance_without_a_ticket_is_an_incident_naming_it(api: Api) -> None:
    xml = (
        side_process(SIDE)
        .replace(
            b'<bpmn:endEvent id="end" />',
            b'<bpmn:scriptTask id="broken" scriptFormat="python"><bpmn:script>x = 1 / 0</bpmn:script></bpmn:scriptTask>'
            b'<bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f3" sourceRef="broken" targetRef="end" />',
        )
        .replace(b'sourceRef="work" targetRef="end"', b'sourceRef="work" targetRef="broken"')
    )
    deploy(api, xml)
    instance = start(api, SIDE, {}).get_json()["id"]
    drain(api.ctx)
    [incident] = api.get("/incidents", as_="duty").get_json()["items"]
    assert (incident["ticket"], incident["instance"], incident["element_id"]) == (None, instance, "broken")
    assert api.get(f"/process-instances/{instance}", as_="owner").get_json()["state"] == "running"


def _broken_first(start: str = "") -> bytes:
    """The side process with a script that fails right after its start event."""
    return (
        side_process(SIDE, start=start)
        .replace(
            b'<bpmn:endEvent id="end" />',
            b'<bpmn:scriptTask id="broken" scriptFormat="python"><bpmn:script>x = 1 / 0</bpmn:script></bpmn:scriptTask>'
            b'<bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f0" sourceRef="broken" targetRef="work" />',
        )
        .replace(b'sourceRef="begin" targetRef="work"', b'sourceRef="begin" targetRef="broken"')
    )


def test_a_start_that_fails_at_once_is_an_incident_that_starts_it_again_on_the_fixed_version(api: Api) -> None:
    deploy(api, _broken_first())
    failed = start(api, SIDE, {"variables": {"reason": "audit"}})
    assert failed.status_code == 409, failed.get_json()
    incident_id = failed.get_json()["incident"]
    [incident] = api.get("/incidents", as_="duty").get_json()["items"]
    assert (incident["id"], incident["kind"], incident["ticket"], incident["instance"]) == (
        incident_id,
        "start",
        None,
        None,
    )
    assert (incident["element_id"], incident["version"]) == ("broken", 1)
    assert instances_of(api, SIDE) == []  # nothing half-started is kept
    again = api.post(f"/incidents/{incident_id}/retry", as_="owner")
    assert again.status_code == 409, again.get_json()  # still broken: the same incident stays open
    assert [i["id"] for i in api.get("/incidents", as_="duty").get_json()["items"]] == [incident_id]
    deploy(api, side_process(SIDE))  # the fixed version
    retried = api.post(f"/incidents/{incident_id}/retry", as_="owner")
    assert retried.status_code == 200, retried.get_json()
    [started] = instances_of(api, SIDE)
    assert (started["version"], started["started_by"]) == (2, "owner")
    [job] = jobs_of(api, started["id"])
    assert job.variables["reason"] == "audit"  # the variables it was first given
    assert api.get("/incidents", as_="duty").get_json()["items"] == []


def test_a_timer_start_that_fails_is_an_incident_and_its_schedule_goes_on(api: Api) -> None:
    deploy(api, _broken_first(start=cycle("R/PT1H")))
    [row] = start_rows(api.ctx)
    fired = run_due_timer(api.ctx, now=row.due_at)
    assert fired is not None and fired.outcome == "failed"
    [incident] = api.get("/incidents", as_="duty").get_json()["items"]
    assert (incident["kind"], incident["element_id"], incident["created_by"]) == ("start", "broken", "timer")
    [row] = start_rows(api.ctx)
    assert row.state == WAITING and row.fired_count == 1  # the next moment is due in an hour
