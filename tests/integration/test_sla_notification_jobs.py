"""The e-mails of fired SLA warnings and breaches are jobs of the job queue: a mail server that refuses them backs
off, retries and ends as an incident (listed, retried like every job), and a retry sends the e-mail once."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import select

from adapters.mail import SmtpMailer
from service.db import transaction
from service.jobs.models import DONE, FAILED, Job
from service.sla.firing import FIRED, drain_events
from service.sla.models import SlaEvent
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.smtp import free_port


def _sla_jobs(api: Api) -> list[tuple[str, int, str]]:
    with transaction(api.ctx.sessions) as session:
        jobs = session.scalars(select(Job).where(Job.topic == "mail.sla").order_by(Job.id))
        return [(job.status, job.attempts, job.element_id) for job in jobs]


def _events(api: Api) -> list[tuple[str, str, Any]]:
    with transaction(api.ctx.sessions) as session:
        rows = session.scalars(select(SlaEvent).where(SlaEvent.fired_at.is_not(None)).order_by(SlaEvent.id))
        return [(event.kind, event.status, event.detail.get("recipients")) for event in rows]


def test_a_refused_sla_mail_backs_off_becomes_an_incident_and_a_retry_sends_it(api: Api, smtp_server: Any) -> None:
    start = datetime.now().astimezone() + timedelta(days=1)
    with time_machine.travel(start, tick=False) as clock:
        number = api.open_ticket(severity="critical")["number"]
        drain(api.ctx)
        smtp_server.clear()
        clock.shift(timedelta(minutes=50))  # past the reaction clock's warning, before its breach
        assert [fired.outcome for fired in drain_events(api.ctx)] == ["fired"]
        assert _sla_jobs(api) == [("pending", 0, "sla_warning")]

        config = dataclasses.replace(api.ctx.config, job_max_attempts=2, job_backoff_seconds=0.0)
        refusing = SmtpMailer("127.0.0.1", free_port(), "desk@orchestrator.example", timeout=2)
        assert drain(dataclasses.replace(api.ctx, mailer=refusing, config=config)) == 2  # tried, backed off, again
        assert _sla_jobs(api) == [(FAILED, 2, "sla_warning")]
        assert [(kind, status) for kind, status, _ in _events(api)] == [("warning", FIRED)]
        assert smtp_server.messages == []
        [incident] = api.get("/incidents", as_="manager").get_json()["items"]
        assert (incident["ticket"], incident["kind"], incident["topic"]) == (number, "job", "mail.sla")
        assert incident["attempts"] == 2 and "ConnectionRefusedError" in incident["last_error"]
        assert api.ticket(number)["status"] != "incident"  # an e-mail that failed does not stop the ticket's flow

        assert api.post(f"/incidents/{incident['id']}/retry", as_="manager").status_code == 200
        assert drain(api.ctx) == 1
        assert _sla_jobs(api) == [(DONE, 1, "sla_warning")]
        [(kind, status, recipients)] = _events(api)
        assert (kind, status) == ("warning", "done") and "manager@orchestrator.example" in recipients
        [mail] = smtp_server.messages
        assert mail.subject == f"[{number}] SLA warning: reaction"
        assert api.get("/incidents", as_="manager").get_json()["items"] == []
        assert drain(api.ctx) == 0  # sent once: nothing is left to send
