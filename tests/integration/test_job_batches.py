"""Chains: the jobs one completion makes ready run in the same step when their topics allow it
(`service.jobs.topics.CHAINABLE`), with each job's history, its failures and a kill mid-chain as for lone jobs."""

from __future__ import annotations

import dataclasses
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select

from adapters.mail import Mailer, MailError, OutgoingMail
from service.context import Context
from service.jobs.models import DONE, FAILED, PENDING, RUNNING, Job
from service.tickets.models import Ticket
from service.worker import drain, run_workers
from tests.integration.conftest import Api
from tests.integration.test_worker_crash import _jobs_done, _worker, killing_server, run_until_killed
from tests.support.processes import stop
from tests.support.smtp import SmtpTestServer

INTAKE = ["files.create_folder", "mail.ticket_opened", "notify.duty_officers"]


def _jobs(api: Api, number: str) -> list[Job]:
    with api.ctx.sessions() as session:
        query = select(Job).join(Job.ticket).where(Ticket.number == number).order_by(Job.id)
        return list(session.scalars(query))


def _jobs_done_in_history(api: Api, number: str) -> list[dict[str, Any]]:
    return [e["detail"] for e in api.history(number) if e["kind"] == "job_done"]


def _instance_writes(ctx: Context, run: Any) -> int:
    """How many times `run()` writes an instance's document (an UPDATE of process_instance: one per step saved)."""
    writes: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE PROCESS_INSTANCE"):
            writes.append(statement)

    event.listen(ctx.engine, "before_cursor_execute", seen)
    try:
        run()
    finally:
        event.remove(ctx.engine, "before_cursor_execute", seen)
    return len(writes)


def test_a_new_tickets_three_jobs_run_in_one_step_each_with_its_job_done(api: Api) -> None:
    number = api.open_ticket()["number"]
    ran: list[int] = []
    assert _instance_writes(api.ctx, lambda: ran.append(drain(api.ctx))) == 1
    assert ran == [3]
    jobs = _jobs(api, number)
    assert [job.topic for job in jobs] == INTAKE and {job.status for job in jobs} == {DONE}
    assert all(job.effect_done and job.attempts == 1 for job in jobs)
    done = _jobs_done_in_history(api, number)
    assert [e["topic"] for e in done] == INTAKE and [e["job"] for e in done] == [job.id for job in jobs]
    assert api.ticket(number)["status"] == "clarifying" and api.ticket(number)["folder_url"]
    assert api.task(number, "clarify", as_="duty")


def test_without_the_chain_each_job_is_a_step_of_its_own(api: Api) -> None:
    number = api.open_ticket()["number"]
    plain = dataclasses.replace(api.ctx, config=dataclasses.replace(api.ctx.config, job_chain=False))
    assert _instance_writes(api.ctx, lambda: drain(plain)) == 3
    assert [e["topic"] for e in _jobs_done_in_history(api, number)] == INTAKE


class _Refuses:
    """A mailer that refuses the mails whose subject holds `subject` (the client's "ticket opened" by default) and
    sends the rest."""

    def __init__(self, mailer: Mailer, subject: str = "Ticket opened") -> None:
        self.mailer, self.subject = mailer, subject
        self.refused = 0

    def send(self, mail: OutgoingMail) -> None:
        if self.subject in mail.subject:
            self.refused += 1
            raise MailError("the relay refused the message", message_id=mail.message_id, transient=True)
        self.mailer.send(mail)


def test_a_failing_effect_mid_chain_keeps_the_earlier_jobs_done_and_is_retried_then_an_incident(
    api: Api, smtp_server: SmtpTestServer
) -> None:
    number = api.open_ticket()["number"]
    assert api.ctx.mailer is not None
    mailer = _Refuses(api.ctx.mailer)
    broken = dataclasses.replace(api.ctx, mailer=mailer, config=dataclasses.replace(api.ctx.config, job_max_attempts=2))
    drain(broken)
    folder, mail = _jobs(api, number)  # the chain stopped at the mail: the duty officers' job was never made
    assert (folder.topic, folder.status, folder.effect_done) == ("files.create_folder", DONE, True)
    assert (mail.topic, mail.status, mail.attempts) == ("mail.ticket_opened", FAILED, 2)
    assert mailer.refused == 2 and "refused" in (mail.last_error or "")
    assert [e["topic"] for e in _jobs_done_in_history(api, number)] == ["files.create_folder"]
    [incident] = api.get("/incidents", as_="manager").get_json()["items"]
    assert (incident["topic"], incident["ticket"]) == ("mail.ticket_opened", number)

    assert api.post(f"/incidents/{incident['id']}/retry", as_="manager").status_code == 200
    drain(api.ctx)
    assert {job.status for job in _jobs(api, number)} == {DONE}
    assert [e["topic"] for e in _jobs_done_in_history(api, number)] == INTAKE
    opened = [m for m in smtp_server.messages if number in m.subject and "Ticket opened" in m.subject]
    assert len(opened) == 1 and api.ticket(number)["status"] == "clarifying"


def test_a_failing_effect_mid_chain_is_retried_as_its_own_job(api: Api) -> None:
    number = api.open_ticket()["number"]
    assert api.ctx.mailer is not None
    mailer = _Refuses(api.ctx.mailer)
    config = dataclasses.replace(api.ctx.config, job_backoff_seconds=3600.0)  # the retry waits: look at it
    drain(dataclasses.replace(api.ctx, mailer=mailer, config=config))
    folder, mail = _jobs(api, number)
    assert folder.status == DONE and (mail.status, mail.attempts, mail.effect_done) == (PENDING, 1, False)
    assert mail.run_after > folder.updated_at and mailer.refused == 1


def test_two_worker_loops_run_each_job_of_each_chain_once(api: Api, smtp_server: SmtpTestServer) -> None:
    tickets = 10
    numbers = [api.open_ticket()["number"] for _ in range(tickets)]
    config = dataclasses.replace(api.ctx.config, worker_poll_seconds=0.05)
    stop_loops = threading.Event()
    loops = threading.Thread(
        target=lambda: run_workers(dataclasses.replace(api.ctx, config=config), stop=stop_loops, concurrency=2)
    )
    loops.start()
    try:
        smtp_server.wait_for_count(2 * tickets, timeout=60)
        for number in numbers:
            while {job.status for job in _jobs(api, number)} & {PENDING, RUNNING} or len(_jobs(api, number)) < 3:
                stop_loops.wait(0.05)
    finally:
        stop_loops.set()
        loops.join(30)
    assert not loops.is_alive()
    for number in numbers:
        done = _jobs_done_in_history(api, number)
        assert Counter(e["topic"] for e in done) == Counter(INTAKE), done
        assert len({e["job"] for e in done}) == 3
    message_ids = [mail.message_id for mail in smtp_server.messages]
    assert len(message_ids) == len(set(message_ids)) == 2 * tickets


@pytest.fixture
def kill_at_duty_mail() -> Iterator[tuple[SmtpTestServer, list[subprocess.Popen[bytes]]]]:
    """`killing_server` at the duty officers' mail of a new ticket: mid-chain, after the client's mail was sent."""
    yield from killing_server("New ticket")


def test_a_worker_killed_mid_chain_loses_nothing_and_resends_only_the_same_messages(
    api: Api, kill_at_duty_mail: tuple[SmtpTestServer, list[subprocess.Popen[bytes]]]
) -> None:
    server, victims = kill_at_duty_mail
    number = api.open_ticket()["number"]
    run_until_killed(api, server, victims)
    folder, *rest = _jobs(api, number)  # the chain rolled back with its first job's effect: only the claim stayed
    assert rest == [] and not folder.effect_done and (folder.status, folder.attempts) == (RUNNING, 1)
    second = _worker(api, server)  # takes the folder job again once the dead worker's lease has run out
    try:
        _jobs_done(api, number)
    finally:
        stop(second)
    mails = [m for m in server.messages if number in m.subject]
    by_subject = Counter(m.subject.split("]")[1].split(":")[0].strip() for m in mails)
    assert by_subject == {"Ticket opened": 2, "New ticket from NORD-BANK": 2}, [m.subject for m in mails]
    assert len({m.message_id for m in mails}) == 2  # each resend is the same message
    done = _jobs_done_in_history(api, number)
    assert [e["topic"] for e in done] == INTAKE and done[0]["attempts"] == 2
    assert api.ticket(number)["status"] == "clarifying"


def test_a_chain_broken_further_down_completes_each_job_alone_and_does_no_done_effect_again(
    api: Api, smtp_server: SmtpTestServer
) -> None:
    number = api.open_ticket()["number"]
    assert api.ctx.mailer is not None
    mailer = _Refuses(api.ctx.mailer, "New ticket")  # the duty officers' mail: the chain's last link
    config = dataclasses.replace(api.ctx.config, job_max_attempts=1)
    drain(dataclasses.replace(api.ctx, mailer=mailer, config=config))
    folder, mail, notify = _jobs(api, number)
    assert [(job.status, job.attempts, job.effect_done) for job in (folder, mail)] == [(DONE, 1, True)] * 2
    assert (notify.status, notify.attempts) == (FAILED, 1) and mailer.refused == 2  # in the folder's chain, the mail's
    opened = [m for m in smtp_server.messages if number in m.subject and "Ticket opened" in m.subject]
    assert len(opened) == 2 and len({m.message_id for m in opened}) == 1  # as a link, then as a job: never a third
    assert [e["topic"] for e in _jobs_done_in_history(api, number)] == INTAKE[:2]

    [incident] = api.get("/incidents", as_="manager").get_json()["items"]
    assert api.post(f"/incidents/{incident['id']}/retry", as_="manager").status_code == 200
    drain(api.ctx)
    assert {job.status for job in _jobs(api, number)} == {DONE} and api.ticket(number)["status"] == "clarifying"
    assert len([m for m in smtp_server.messages if number in m.subject and "New ticket" in m.subject]) == 1
