"""Failing jobs become incidents, and one task is completed once (a killed worker: test_worker_crash.py)."""

from __future__ import annotations

import dataclasses
import threading

from sqlalchemy import select

from adapters.mail import SmtpMailer
from service.auth.models import Caller, User
from service.errors import Conflict
from service.tasks.services import complete_task
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.smtp import free_port


def test_two_concurrent_completions_exactly_one_wins(api: Api) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    task_id = api.task(number, "clarify", as_="duty")["id"]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def complete() -> None:
        session = api.ctx.sessions()
        try:
            user = Caller.of(session.scalar(select(User).where(User.username == "duty")))
            session.commit()  # end the read, so that the two threads meet at the barrier holding no lock
            barrier.wait()
            complete_task(session, api.ctx, user=user, task_id=task_id, data={"description": "d"})
            session.commit()
            results.append("ok")
        except Conflict:
            session.rollback()
            results.append("conflict")
        finally:
            session.close()

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["conflict", "ok"]
    history = api.history(number, as_="admin")
    assert [e["kind"] for e in history].count("task_completed") == 1


def test_failing_job_becomes_an_incident_that_can_be_retried(api: Api, smtp_server) -> None:  # type: ignore[no-untyped-def]
    number = api.open_ticket()["number"]
    broken = dataclasses.replace(
        api.ctx,
        mailer=SmtpMailer("127.0.0.1", free_port(), "desk@orchestrator.example", timeout=2),
        config=dataclasses.replace(api.ctx.config, job_max_attempts=2),
    )
    drain(broken)
    incidents = api.get("/incidents", as_="manager").get_json()["items"]
    assert [i["topic"] for i in incidents] == ["mail.ticket_opened"]
    assert incidents[0]["ticket"] == number and incidents[0]["attempts"] == 2 and incidents[0]["last_error"]
    assert api.get("/incidents", as_="storage.l1").status_code == 403
    retried = api.post(f"/incidents/{incidents[0]['id']}/retry", as_="manager")
    assert retried.status_code == 200 and retried.get_json()["status"] == "pending"
    assert api.post(f"/incidents/{incidents[0]['id']}/retry", as_="manager").status_code == 409
    drain(api.ctx)
    assert api.get("/incidents", as_="manager").get_json()["items"] == []
    assert api.ticket(number)["status"] == "clarifying"
    kinds = [e["kind"] for e in api.history(number, as_="admin")]
    assert "incident" in kinds and "incident_retried" in kinds
