"""External tasks: a topic no adapter serves is left to outside workers, which fetch, lock and complete its tasks."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from service.app import create_app
from service.auth.accounts import create_user
from service.auth.models import Caller, User
from service.context import Context
from service.db import transaction, utcnow
from service.errors import Invalid
from service.jobs import external
from service.jobs.models import FAILED, PENDING, Job
from service.jobs.topics import ServedTopics
from service.processes.definitions import deploy_definition
from service.rulesets.models import RulesetVersion
from service.worker import drain
from tests.conftest import ROOT
from tests.integration.conftest import Api
from tests.integration.test_job_queue import _plan

TOPIC = "partner.notify"
FETCH = "/external-tasks/fetch-and-lock"


def partner_diagram() -> str:
    """The shipped ticket process with the duty officers' notification left to a partner's system."""
    xml = (ROOT / "processes" / "ticket.bpmn").read_text()
    assert 'camunda:topic="notify.duty_officers"' in xml
    return xml.replace('camunda:topic="notify.duty_officers"', f'camunda:topic="{TOPIC}"')


def deploy_partner_step(ctx: Context) -> None:
    """Deploy `partner_diagram` as the newest version of the ticket process, which new tickets start."""
    with transaction(ctx.sessions) as session:
        active = set(session.scalars(select(RulesetVersion.name).where(RulesetVersion.active.is_(True))))
        deploy_definition(
            session,
            xml=partner_diagram().encode(),
            filename="ticket.bpmn",
            actor="t",
            known_topics=ServedTopics.of(TOPIC),
            known_rulesets=active,
        )
    ctx.definitions.forget_latest()


@pytest.fixture
def partner(api: Api) -> Api:
    """The partner step deployed, and worker accounts: `erp` serves its topic, `other.erp` another topic."""
    deploy_partner_step(api.ctx)
    with transaction(api.ctx.sessions) as session:
        create_user(session, actor="t", username="erp", roles=["worker"], topics=[TOPIC])
        create_user(session, actor="t", username="other.erp", roles=["worker"], topics=["warehouse.reserve"])
    return api


def _waiting(api: Api) -> str:
    """A new ticket whose flow waits for the partner's step (the service's own jobs before it done)."""
    number = api.open_ticket()["number"]
    drain(api.ctx)
    return str(number)


def _fetch(api: Api, *, worker: str = "erp-1", as_: str = "erp", max_tasks: int = 10, **topic: Any) -> Any:
    body = {"workerId": worker, "maxTasks": max_tasks, "topics": [{"topicName": TOPIC, "lockDuration": 60000, **topic}]}
    return api.post(FETCH, as_=as_, json=body)


def _locked(api: Api, **kwargs: Any) -> list[dict[str, Any]]:
    response = _fetch(api, **kwargs)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json())


def _claim_statements_of(ctx: Context, call: Any) -> list[tuple[str, Any]]:
    """The SELECTs of the job table that `call` runs, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM job" in statement:
            seen.append((statement, parameters))

    event.listen(ctx.engine, "before_cursor_execute", listen)
    try:
        call()
    finally:
        event.remove(ctx.engine, "before_cursor_execute", listen)
    return seen


def _job(ctx: Context, task_id: str) -> Job:
    with transaction(ctx.sessions) as session:
        job = session.get(Job, int(task_id))
        assert job is not None
        session.expunge(job)
        return job


def test_deploying_a_topic_with_no_adapter_needs_it_declared_external(ctx: Context) -> None:
    xml = partner_diagram()
    refused = create_app(context=ctx).test_client()
    api = Api(refused, ctx)
    response = api.post("/process-definitions?filename=ticket.bpmn", as_="owner", data=xml, content_type="text/xml")
    assert response.status_code == 422, response.get_json()
    assert f"no adapter serves the topic '{TOPIC}'" in response.get_json()["detail"]
    for setting in (f"warehouse.reserve, {TOPIC}", "*"):
        declared = dataclasses.replace(ctx, config=dataclasses.replace(ctx.config, external_topics=setting))
        api = Api(create_app(context=declared).test_client(), declared)
        response = api.post("/process-definitions?filename=ticket.bpmn", as_="owner", data=xml, content_type="text/xml")
        assert response.status_code in (200, 201), response.get_json()


def test_the_built_in_worker_never_claims_an_external_task(partner: Api) -> None:
    number = _waiting(partner)
    assert drain(partner.ctx) == 0
    with transaction(partner.ctx.sessions) as session:
        job = session.scalar(select(Job).where(Job.topic == TOPIC))
        assert job is not None and job.external and job.status == PENDING and job.attempts == 0
        assert not session.scalar(select(Job.external).where(Job.topic == "files.create_folder"))
    tasks = partner.get(f"/tasks?ticket={number}", as_="duty").get_json()["items"]
    assert [task["name"] for task in tasks] == []  # the flow waits at the partner's step


def test_a_worker_fetches_locks_and_completes_and_the_ticket_moves_on(partner: Api) -> None:
    number = _waiting(partner)
    [task] = _locked(partner)
    assert task["topicName"] == TOPIC and task["workerId"] == "erp-1" and task["businessKey"] == number
    assert task["activityId"] == "notify_duty_officers" and task["lockExpirationTime"] and task["retries"] is None
    job = _job(partner.ctx, task["id"])
    assert task["processInstanceId"] == str(job.instance_id) and job.locked_by == "erp-1" and job.attempts == 1
    assert task["variables"]["folder_url"] == {"value": job.variables["folder_url"], "type": "String", "valueInfo": {}}
    assert _locked(partner, worker="erp-2") == []  # locked: no other worker gets it

    variables = {
        "erp_ref": {"value": "ERP-77", "type": "String"},
        "erp_lines": {"value": '[{"sku": "C-1", "qty": 2}]', "type": "Json"},
        "erp_count": {"value": 2, "type": "Integer"},
    }
    response = partner.post(
        f"/external-tasks/{task['id']}/complete", as_="erp", json={"workerId": "erp-1", "variables": variables}
    )
    assert response.status_code == 204, response.get_json()
    assert partner.task(number, "clarify", as_="duty")["name"] == "clarify"
    [done] = [event for event in partner.history(number) if event["detail"].get("topic") == TOPIC]
    assert done["kind"] == "job_done" and done["actor"] == "erp"
    assert done["detail"]["result"]["erp_ref"] == "ERP-77"
    correction = {"variables": {"erp_ref": None, "erp_lines": None, "erp_count": None}}
    response = partner.call("PATCH", f"/tickets/{number}/variables", as_="owner", json=correction)
    assert response.status_code == 200, response.get_json()  # its answer shows the values in the process before
    assert response.get_json()["before"] == {
        "erp_ref": "ERP-77",
        "erp_lines": [{"sku": "C-1", "qty": 2}],
        "erp_count": 2,
    }
    again = partner.post(f"/external-tasks/{task['id']}/complete", as_="erp", json={"workerId": "erp-1"})
    assert again.status_code == 409, again.get_json()  # done: no longer locked by anyone


def test_a_topic_names_the_variables_it_wants(partner: Api) -> None:
    _waiting(partner)
    [task] = _locked(partner, variables=["folder_url", "no_such_variable"])
    assert list(task["variables"]) == ["folder_url"]


def test_refusals(partner: Api) -> None:
    _waiting(partner)
    assert _fetch(partner, as_="duty").status_code == 403  # not a worker
    assert _fetch(partner, as_="other.erp").status_code == 403  # a worker of other topics
    body = {"workerId": "w", "maxTasks": 1, "topics": [{"topicName": "mail.estimate", "lockDuration": 1000}]}
    assert partner.post(FETCH, as_="admin", json=body).status_code == 422  # the service's own adapter serves it
    assert partner.post(FETCH, as_="erp", json={"workerId": "w", "topics": []}).status_code == 422
    [task] = _locked(partner)
    path = f"/external-tasks/{task['id']}"
    calls = {
        "complete": {},
        "failure": {"retries": 1},
        "bpmn-error": {"errorCode": "NO_STOCK"},
        "extend-lock": {"newDuration": 1000},
    }
    for route, body in calls.items():
        assert partner.post(f"{path}/{route}", as_="erp", json={**body, "workerId": "erp-2"}).status_code == 409
        assert partner.post(f"{path}/{route}", as_="other.erp", json={**body, "workerId": "erp-1"}).status_code == 404
        assert partner.post(f"{path}/{route}", as_="duty", json={**body, "workerId": "erp-1"}).status_code == 403
        assert (
            partner.post(f"/external-tasks/999999/{route}", as_="erp", json={**body, "workerId": "erp-1"}).status_code
            == 404
        )
    with transaction(partner.ctx.sessions) as session:
        built_in = session.scalar(select(Job.id).where(Job.topic == "files.create_folder"))
    response = partner.post(f"/external-tasks/{built_in}/complete", as_="admin", json={"workerId": "erp-1"})
    assert response.status_code == 404  # the built-in worker's job is no external task
    assert _job(partner.ctx, task["id"]).locked_by == "erp-1"  # the refusals changed nothing


def test_a_variable_that_does_not_fit_its_type_is_refused(partner: Api) -> None:
    _waiting(partner)
    [task] = _locked(partner)
    for bad in ({"value": "two", "type": "Integer"}, {"value": "{", "type": "Json"}, {"value": 1, "type": "Object"}):
        body = {"workerId": "erp-1", "variables": {"x": bad}}
        response = partner.post(f"/external-tasks/{task['id']}/complete", as_="erp", json=body)
        assert response.status_code == 422, response.get_json()
    assert _job(partner.ctx, task["id"]).status != "done"


def test_an_expired_lock_makes_the_task_fetchable_again(partner: Api) -> None:
    _waiting(partner)
    [task] = _locked(partner, worker="erp-1")
    with transaction(partner.ctx.sessions) as session:
        session.execute(
            update(Job).where(Job.id == int(task["id"])).values(locked_until=utcnow() - timedelta(seconds=1))
        )
    extend = {"workerId": "erp-1", "newDuration": 60000}
    assert partner.post(f"/external-tasks/{task['id']}/extend-lock", as_="erp", json=extend).status_code == 409
    [again] = _locked(partner, worker="erp-2")
    assert again["id"] == task["id"] and again["workerId"] == "erp-2"
    assert _job(partner.ctx, task["id"]).attempts == 2
    late = partner.post(f"/external-tasks/{task['id']}/complete", as_="erp", json={"workerId": "erp-1"})
    assert late.status_code == 409  # the first worker lost its lock to the second


def test_extending_a_lock_moves_its_expiry(partner: Api) -> None:
    _waiting(partner)
    [task] = _locked(partner, lockDuration=1000)
    before = _job(partner.ctx, task["id"]).locked_until
    body = {"workerId": "erp-1", "newDuration": 3_600_000}
    assert partner.post(f"/external-tasks/{task['id']}/extend-lock", as_="erp", json=body).status_code == 204
    after = _job(partner.ctx, task["id"]).locked_until
    assert before is not None and after is not None and after > before + timedelta(minutes=30)


def test_failures_retry_until_none_are_left_then_an_incident(partner: Api) -> None:
    number = _waiting(partner)
    [task] = _locked(partner)
    path = f"/external-tasks/{task['id']}/failure"
    body = {
        "workerId": "erp-1",
        "errorMessage": "ERP down",
        "errorDetails": "HTTP 503",
        "retries": 1,
        "retryTimeout": 0,
    }
    assert partner.post(path, as_="erp", json=body).status_code == 204
    [again] = _locked(partner)
    assert again["id"] == task["id"] and again["retries"] == 1 and again["errorMessage"].startswith("ERP down")
    assert partner.post(path, as_="erp", json={**body, "retries": 0}).status_code == 204
    assert _locked(partner) == []
    assert _job(partner.ctx, task["id"]).status == FAILED
    incidents = partner.get("/incidents", as_="duty").get_json()["items"]
    [incident] = [item for item in incidents if item["ticket"] == number]
    assert incident["kind"] == "job" and incident["topic"] == TOPIC and "ERP down" in incident["last_error"]
    assert partner.post(f"/incidents/{incident['id']}/retry", as_="duty").status_code == 200
    [retried] = _locked(partner)  # a person's retry hands it to the workers again
    assert retried["id"] == task["id"]


def test_a_retry_timeout_holds_the_task_back_and_a_long_poll_waits_for_it(partner: Api) -> None:
    _waiting(partner)
    [task] = _locked(partner)
    body = {"workerId": "erp-1", "errorMessage": "busy", "retries": 3, "retryTimeout": 1500}
    assert partner.post(f"/external-tasks/{task['id']}/failure", as_="erp", json=body).status_code == 204
    assert _locked(partner) == []  # not before its retry time
    response = partner.post(
        FETCH,
        as_="erp",
        json={
            "workerId": "erp-1",
            "maxTasks": 1,
            "asyncResponseTimeout": 15000,
            "topics": [{"topicName": TOPIC, "lockDuration": 60000}],
        },
    )
    assert response.status_code == 200 and [item["id"] for item in response.get_json()] == [task["id"]]


def test_a_bpmn_error_becomes_an_incident_naming_its_code(partner: Api) -> None:
    number = _waiting(partner)
    [task] = _locked(partner)
    body = {"workerId": "erp-1", "errorCode": "NO_STOCK", "errorMessage": "nothing on the shelf"}
    assert partner.post(f"/external-tasks/{task['id']}/bpmn-error", as_="erp", json=body).status_code == 204
    assert _job(partner.ctx, task["id"]).status == FAILED
    incidents = partner.get("/incidents", as_="duty").get_json()["items"]
    [incident] = [item for item in incidents if item["ticket"] == number]
    assert "'NO_STOCK'" in incident["last_error"] and incident["element_id"] == "notify_duty_officers"
    assert _locked(partner) == []


def test_two_workers_racing_never_get_one_task(partner: Api) -> None:
    for _ in range(4):
        _waiting(partner)
    with transaction(partner.ctx.sessions) as session:
        user = session.scalar(select(User).where(User.username == "erp"))
        assert user is not None
        erp = Caller.of(user)
    got: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def fetch(worker: str) -> None:
        start.wait()
        mine: list[int] = []
        while True:
            locked = external.fetch_and_lock(
                partner.ctx, user=erp, worker_id=worker, topics=[external.TopicRequest(TOPIC, 60000)], max_tasks=1
            )
            if not locked:
                break
            mine += [task.id for task in locked]
        got[worker] = mine

    threads = [threading.Thread(target=fetch, args=(f"erp-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [task for tasks in got.values() for task in tasks]
    assert len(every) == 4 and len(set(every)) == 4
    with transaction(partner.ctx.sessions) as session:
        rows = session.execute(select(Job.id, Job.locked_by).where(Job.topic == TOPIC)).all()
    holders = {job_id: holder for job_id, holder in rows}
    assert holders == {task: worker for worker, tasks in got.items() for task in tasks}


def test_only_a_worker_account_serves_topics(ctx: Context) -> None:
    with transaction(ctx.sessions) as session, pytest.raises(Invalid):
        create_user(session, actor="t", username="not.a.worker", roles=["duty"], topics=[TOPIC])


def test_a_completion_whose_next_step_fails_becomes_an_incident(partner: Api) -> None:
    number = _waiting(partner)
    [task] = _locked(partner)
    small = dataclasses.replace(partner.ctx, config=dataclasses.replace(partner.ctx.config, instance_data_mb=0.01))
    api = Api(create_app(context=small).test_client(), small)
    body = {"workerId": "erp-1", "variables": {"erp_blob": {"value": "x" * 20000, "type": "String"}}}
    response = api.post(f"/external-tasks/{task['id']}/complete", as_="erp", json=body)
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["incident"]
    assert _job(partner.ctx, task["id"]).status == FAILED
    ticket = partner.ticket(number)
    assert ticket["status"] == "incident"  # stopped where the step failed, until a person retries it
    [incident] = [
        item for item in partner.get("/incidents", as_="duty").get_json()["items"] if item["ticket"] == number
    ]
    assert incident["id"] == response.get_json()["incident"] and incident["topic"] == TOPIC


def test_a_fetch_reads_the_index_of_external_jobs(partner: Api) -> None:
    """On PostgreSQL the partial index of external jobs, which holds no job of the built-in worker; SQLite, whose
    indexes hold every row, reads one of the job indexes rather than the whole table."""
    _waiting(partner)
    [(statement, parameters)] = _claim_statements_of(partner.ctx, lambda: _locked(partner))
    plan = _plan(partner.ctx, statement, parameters)
    if partner.ctx.engine.dialect.name == "postgresql":
        assert "Index Scan using ix_job_external" in plan, plan
    else:
        assert "USING INDEX ix_job_" in plan, plan
