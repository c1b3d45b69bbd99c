"""/metrics: counters moved by real actions (a ticket opened, its jobs run), gauges counted in the database."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

import time_machine
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from adapters.mail import SmtpMailer
from service.app import create_app
from service.context import Context
from service.jobs.services import WORKER_ID
from service.sla.firing import drain_events
from service.sla.models import SlaEvent
from service.tasks.models import OPEN, TaskCandidate, UserTask
from service.worker import drain, run_worker
from tests.conftest import ROOT
from tests.integration.conftest import Api
from tests.support.metrics import Samples, named, parse, value
from tests.support.smtp import free_port


def scrape(client: FlaskClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return parse(response.get_data(as_text=True))


def uncached(ctx: Context) -> FlaskClient:
    """An app whose database gauges are counted afresh at every scrape."""
    config = dataclasses.replace(ctx.config, metrics_cache_seconds=0.0)
    return create_app(context=dataclasses.replace(ctx, config=config)).test_client()


def test_opening_a_ticket_and_running_its_jobs_move_the_counters(api: Api) -> None:
    before = scrape(api.client)
    number = api.open_ticket(channel="portal")["number"]
    assert api.get(f"/tickets/{number}", as_="admin").status_code == 200
    assert drain(api.ctx) == 3  # folder, the client's mail, the duty officers' mail
    after = scrape(api.client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("orchestrator_tickets_opened_total", channel="portal") == 1
    post = {"method": "POST", "route": "/api/v1/tickets", "status": "201"}
    assert moved("orchestrator_http_requests_total", **post) == 1
    # the route is the URL rule, never the raw path with the ticket's number in it
    detail = {"method": "GET", "route": "/api/v1/tickets/<number>", "status": "200"}
    assert moved("orchestrator_http_requests_total", **detail) == 1
    assert not [labels for labels in named(after, "orchestrator_http_requests_total") if number in str(labels)]
    latency = {"method": "POST", "route": "/api/v1/tickets"}
    assert moved("orchestrator_http_request_duration_seconds_count", **latency) == 1
    assert moved("orchestrator_http_request_duration_seconds_sum", **latency) > 0
    assert moved("orchestrator_engine_steps_total", result="ok") == 4  # the start, then one step per job
    assert moved("orchestrator_engine_step_duration_seconds_count") == 4
    for topic in ("files.create_folder", "mail.ticket_opened", "notify.duty_officers"):
        assert moved("orchestrator_jobs_total", topic=topic, result="done") == 1
        assert moved("orchestrator_job_age_seconds_count", topic=topic) == 1
        assert moved("orchestrator_job_age_seconds_sum", topic=topic) > 0


def test_decisions_are_counted_by_ruleset_and_outcome(api: Api) -> None:
    before = named(scrape(api.client), "orchestrator_decisions_total")
    number = api.open_ticket()["number"]
    drain(api.ctx)
    api.complete(number, "clarify", {"description": "Controller B failed", "category": "hardware"}, as_="duty")
    after = named(scrape(api.client), "orchestrator_decisions_total")
    moved = {
        dict(labels)["ruleset"]: (dict(labels)["outcome"], count - before.get(labels, 0))
        for labels, count in after.items()
        if count != before.get(labels, 0)
    }
    decisions = {d["ruleset"]: d["outcome"] for d in api.ticket(number)["decisions"]}
    assert set(moved) == set(decisions) == {"entitlement", "routing"}
    assert decisions["entitlement"]["contract"] == "C-NORD-1"  # the ticket's history names the contract...
    for ruleset, outcome in decisions.items():
        # ...the metric does not: what a rule copies from facts would make a series per contract.
        label = ",".join(f"{key}={outcome[key]}" for key in sorted(outcome) if key != "contract")
        assert moved[ruleset] == (label, 1)


def test_a_failing_job_counts_its_retries_its_incident_and_the_open_incidents(api: Api) -> None:
    client = uncached(api.ctx)
    before = scrape(client)
    assert value(before, "orchestrator_open_incidents") == 0
    api.open_ticket()
    broken = dataclasses.replace(
        api.ctx,
        mailer=SmtpMailer("127.0.0.1", free_port(), "desk@orchestrator.example", timeout=2),
        config=dataclasses.replace(api.ctx.config, job_max_attempts=2),
    )
    drain(broken)
    after = scrape(client)
    topic = "mail.ticket_opened"
    retries = value(after, "orchestrator_jobs_total", topic=topic, result="retry")
    assert retries - value(before, "orchestrator_jobs_total", topic=topic, result="retry") == 1
    incidents = value(after, "orchestrator_jobs_total", topic=topic, result="incident")
    assert incidents - value(before, "orchestrator_jobs_total", topic=topic, result="incident") == 1
    assert (
        value(after, "orchestrator_open_incidents")
        == len(api.get("/incidents", as_="manager").get_json()["items"])
        == 1
    )


def test_open_tasks_per_queue_are_counted_in_the_database_and_cached_for_a_while(api: Api) -> None:
    fresh = uncached(api.ctx)
    cached = api.client  # the default: counted at most every metrics_cache_seconds (5 s)
    assert value(scrape(cached), "orchestrator_open_tasks", queue="duty") == 0
    first = api.open_ticket()["number"]
    api.open_ticket()
    drain(api.ctx)  # the clarify task opens once the folder is made and the mails are sent
    assert value(scrape(fresh), "orchestrator_open_tasks", queue="duty") == 2
    assert value(scrape(cached), "orchestrator_open_tasks", queue="duty") == 0  # still the count of the last scrape
    api.complete(first, "clarify", {"description": "Controller B failed", "category": "hardware"}, as_="duty")
    with api.ctx.sessions() as session:
        in_db = dict(
            session.execute(
                select(TaskCandidate.group_name, func.count())
                .join(UserTask, UserTask.id == TaskCandidate.task_id)
                .where(UserTask.state == OPEN)
                .group_by(TaskCandidate.group_name)
            ).all()
        )
    assert in_db["duty"] == 1 and len(in_db) >= 2  # the first ticket went on to a team's queue
    gauges = {dict(labels)["queue"]: count for labels, count in named(scrape(fresh), "orchestrator_open_tasks").items()}
    assert gauges == in_db


def test_the_worker_heartbeat_shows_which_workers_are_alive(api: Api) -> None:
    client = uncached(api.ctx)
    assert not named(scrape(client), "orchestrator_worker_last_seen_timestamp_seconds")
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(api.ctx,), kwargs={"stop": stop})
    started = time.time()
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not (seen := named(scrape(client), "orchestrator_worker_last_seen_timestamp_seconds")):
            assert time.monotonic() < deadline, "the worker never reported"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    [(labels, at)] = seen.items()
    assert dict(labels) == {"worker": WORKER_ID}
    assert started - 1 <= at <= time.time() + 1


def test_a_configured_metrics_token_is_required(ctx: Context) -> None:
    config = dataclasses.replace(ctx.config, metrics_token="s3cret-scraper")
    client = create_app(context=dataclasses.replace(ctx, config=config)).test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-scraper"}).status_code == 200


def test_sla_warnings_and_breaches_are_counted_by_kind_and_clock(api: Api) -> None:
    with time_machine.travel(datetime.now().astimezone() + timedelta(days=1), tick=False) as clock:
        api.open_ticket(severity="critical")
        drain(api.ctx)
        before = named(scrape(api.client), "orchestrator_sla_events_total")
        clock.shift(timedelta(hours=10))
        fired = {f.event_id for f in drain_events(api.ctx) if f.outcome == "fired"}
        after = named(scrape(api.client), "orchestrator_sla_events_total")
    with api.ctx.sessions() as session:
        expected = Counter((e.kind, e.clock) for e in session.scalars(select(SlaEvent)) if e.id in fired)
    moved = {
        (dict(labels)["kind"], dict(labels)["clock"]): count - before.get(labels, 0)
        for labels, count in after.items()
        if count != before.get(labels, 0)
    }
    assert {kind for kind, _clock in expected} == {"warning", "breach"}
    assert moved == dict(expected)


def test_the_operators_guide_lists_every_metric_the_service_exposes(api: Api) -> None:
    guide = (ROOT / "docs" / "operators.md").read_text()
    documented = set(re.findall(r"^\| `(orchestrator_\w+)` \|", guide, re.M))
    families = text_string_to_metric_families(api.client.get("/metrics").get_data(as_text=True))
    exposed = {
        family.name + ("_total" if family.type == "counter" else "")
        for family in families
        if family.name.startswith("orchestrator_")
    }
    assert documented == exposed
