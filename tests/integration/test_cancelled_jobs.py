"""A job whose service task something else ended first (here an interrupting timer on it): a waiting job is done
without its effect, a running one finds nothing to complete; neither is retried nor becomes an incident."""

from __future__ import annotations

import contextvars

from sqlalchemy import select

from service.db import transaction
from service.incidents.models import Incident
from service.jobs import services as jobs
from service.jobs.models import CANCELLED_JOB, DONE, Job
from service.timers.firing import run_due_timer
from service.timers.models import DueTimer
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.timers import with_timer_on_folder

FOLDER = "files.create_folder"


def _ticket_with_a_timer_on_its_folder(api: Api) -> str:
    xml = with_timer_on_folder()
    deployed = api.post("/process-definitions", as_="owner", data=xml, headers={"Content-Type": "application/xml"})
    assert deployed.status_code == 201, deployed.get_json()
    return str(api.open_ticket()["number"])


def _fire_the_timer(api: Api) -> None:
    with api.ctx.sessions() as session:
        row = session.scalars(select(DueTimer)).one()
    fired = run_due_timer(api.ctx, now=row.due_at)
    assert fired is not None and fired.outcome == "fired"


def _folder_job(api: Api) -> Job:
    with api.ctx.sessions() as session:
        return session.scalars(select(Job).where(Job.topic == FOLDER)).one()


def _went_on_without_incident(api: Api, number: str) -> None:
    drain(api.ctx)
    assert [task["name"] for task in api.ticket(number)["open_tasks"]] == ["clarify"]
    with api.ctx.sessions() as session:
        assert list(session.scalars(select(Incident))) == []
        assert {job.status for job in session.scalars(select(Job))} == {DONE}


def _claim(api: Api) -> int:
    with transaction(api.ctx.sessions) as session:
        claimed = jobs.claim_job(session, api.ctx)
        assert claimed is not None and claimed.topic == FOLDER
        return claimed.id


def test_a_waiting_job_whose_task_was_interrupted_is_done_without_its_effect(api: Api) -> None:
    number = _ticket_with_a_timer_on_its_folder(api)
    _fire_the_timer(api)
    job = _folder_job(api)
    assert (job.status, job.result, job.effect_done) == (DONE, CANCELLED_JOB, False)
    _went_on_without_incident(api, number)
    assert not _folder_job(api).effect_done  # the worker never ran it
    assert FOLDER not in [e["detail"]["topic"] for e in api.history(number) if e["kind"] == "job_done"]


def test_a_running_job_whose_task_was_interrupted_finds_nothing_to_complete(api: Api) -> None:
    number = _ticket_with_a_timer_on_its_folder(api)
    job_id = contextvars.copy_context().run(_claim, api)  # the request id the claim binds stays in that context
    jobs._do_effect(api.ctx, job_id)  # the folder is made while the timer fires
    _fire_the_timer(api)
    assert jobs._complete(api.ctx, job_id, chain=True, worker=jobs.WORKER_ID) == ()
    assert _folder_job(api).status == DONE
    _went_on_without_incident(api, number)
