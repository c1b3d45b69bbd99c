"""A worker killed mid-job or mid-timer, as a real process against a real SMTP server on loopback: nothing is lost,
a mail is sent at least once with the same Message-ID, a timer fires once.

The kills come from outside the service: the SMTP server kills the worker after it has stored a message and before
it answers 250, and `tests/support/faults/sitecustomize.py` kills it right after a job's effect is recorded or in a
fired timer's step before its commit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from service.jobs.models import DONE, Job
from service.tickets.models import Ticket
from service.timers.models import FIRED, WAITING, DueTimer
from service.worker import drain
from tests.conftest import ROOT
from tests.integration.conftest import Api
from tests.support.processes import stop
from tests.support.smtp import ReceivedMessage, SmtpTestServer
from tests.support.timers import with_boundary

FAULTS = ROOT / "tests" / "support" / "faults"


def _worker(api: Api, smtp: SmtpTestServer, *args: str, **extra: str) -> subprocess.Popen[bytes]:
    """`orchestrator worker` as its own process, over the test database and `smtp`, with a lease of one second."""
    config = api.ctx.config
    env = {
        **os.environ,
        "DATABASE_URL": config.database_url,
        "ORCHESTRATOR_MAILER": "smtp",
        "ORCHESTRATOR_SMTP_HOST": smtp.host,
        "ORCHESTRATOR_SMTP_PORT": str(smtp.port),
        "ORCHESTRATOR_FILE_STORE_ROOT": config.file_store_root,
        "ORCHESTRATOR_FILE_STORE_BASE_URL": config.file_store_base_url,
        "ORCHESTRATOR_JOB_LEASE_SECONDS": "1",
        "ORCHESTRATOR_WORKER_POLL_SECONDS": "0.1",
        "ORCHESTRATOR_LOG_LEVEL": "WARNING",  # stderr is a pipe read only after the worker died: keep it short
        **extra,
    }
    command = [sys.executable, "-m", "service.cli", "worker", *args]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _killed(worker: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait for the worker to die of SIGKILL (its stderr shown otherwise)."""
    try:
        code = worker.wait(timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        raise AssertionError("the worker was never killed") from None
    errors = worker.stderr.read().decode()[-2000:] if worker.stderr is not None else ""
    assert code == -signal.SIGKILL, f"worker exited {code}: {errors}"


def _jobs_done(api: Api, number: str, timeout: float = 60) -> None:
    """Wait until every job of the ticket is done (the ticket then waits for its clarify task)."""
    deadline = time.monotonic() + timeout
    while True:
        with api.ctx.sessions() as session:
            statuses = list(session.scalars(select(Job.status).join(Job.ticket).where(Ticket.number == number)))
        if statuses and set(statuses) == {DONE} and len(statuses) == 3:
            return
        assert time.monotonic() < deadline, f"the jobs of {number} are {statuses}"
        time.sleep(0.1)


def _opened(server: SmtpTestServer, number: str) -> list[ReceivedMessage]:
    return [m for m in server.messages if number in m.subject and "Ticket opened" in m.subject]


def killing_server(subject: str) -> Iterator[tuple[SmtpTestServer, list[subprocess.Popen[bytes]]]]:
    """An SMTP server that SIGKILLs the first worker in its list once it has stored a mail whose subject holds
    `subject`, before it answers 250."""
    victims: list[subprocess.Popen[bytes]] = []

    def kill_before_250(message: ReceivedMessage) -> None:
        if victims and subject in message.subject:
            os.kill(victims.pop(0).pid, signal.SIGKILL)

    with SmtpTestServer(on_message=kill_before_250) as server:
        yield server, victims


def run_until_killed(api: Api, server: SmtpTestServer, victims: list[subprocess.Popen[bytes]]) -> None:
    """Start a worker that `server` is to kill (first in `victims`) and wait for it to die."""
    first = _worker(api, server)
    victims.append(first)
    try:
        _killed(first)
    finally:
        stop(first)


@pytest.fixture
def killer() -> Iterator[tuple[SmtpTestServer, list[subprocess.Popen[bytes]]]]:
    """`killing_server` at a ticket's opening mail."""
    yield from killing_server("Ticket opened")


def test_a_worker_killed_between_the_mail_stored_and_the_job_recording_it_resends_with_the_same_message_id(
    api: Api, killer: tuple[SmtpTestServer, list[subprocess.Popen[bytes]]]
) -> None:
    server, victims = killer
    number = api.open_ticket()["number"]
    run_until_killed(api, server, victims)
    [stored] = _opened(server, number)  # the receiver has the mail; the job does not know it was sent
    second = _worker(api, server)  # takes the job again once the dead worker's lease has run out
    try:
        _jobs_done(api, number)
    finally:
        stop(second)
    sent = _opened(server, number)
    assert len(sent) == 2, [m.subject for m in server.messages]
    assert sent[0].message_id == sent[1].message_id == stored.message_id != ""
    assert sent[0].body == sent[1].body
    assert api.ticket(number)["status"] == "clarifying"


def test_a_worker_killed_after_the_effect_is_recorded_does_not_send_it_again(api: Api) -> None:
    number = api.open_ticket()["number"]
    with SmtpTestServer() as server:
        # no chain: the mail is a job of its own, its effect recorded apart (a chain's links: test_job_batches.py)
        faults = {"PYTHONPATH": str(FAULTS), "FAULT_KILL_AFTER_EFFECT": "mail.ticket_opened"}
        first = _worker(api, server, ORCHESTRATOR_JOB_CHAIN="false", **faults)
        try:
            _killed(first)
        finally:
            stop(first)
        assert len(_opened(server, number)) == 1
        with api.ctx.sessions() as session:
            job = session.scalars(select(Job).where(Job.topic == "mail.ticket_opened")).one()
            assert job.effect_done and job.status != DONE  # killed between the record and the completion
        second = _worker(api, server)
        try:
            _jobs_done(api, number)
        finally:
            stop(second)
        assert len(_opened(server, number)) == 1, [m.subject for m in server.messages]
        assert any("New ticket" in m.subject and number in m.subject for m in server.messages)  # the flow went on
    assert api.ticket(number)["status"] == "clarifying"


def _open_tasks(api: Api, number: str) -> list[str]:
    return [task["name"] for task in api.ticket(number)["open_tasks"]]


def _timer(api: Api) -> DueTimer:
    with api.ctx.sessions() as session:
        return session.scalars(select(DueTimer)).one()


def test_a_worker_killed_while_it_fires_a_timer_loses_nothing_and_the_next_worker_fires_it_once(api: Api) -> None:
    xml = with_boundary(interrupting=True, duration="PT1S")
    deployed = api.post("/process-definitions", as_="owner", data=xml, headers={"Content-Type": "application/xml"})
    assert deployed.status_code == 201, deployed.get_json()
    number = api.open_ticket()["number"]
    drain(api.ctx)
    assert _open_tasks(api, number) == ["clarify"]
    with SmtpTestServer() as server:
        first = _worker(api, server, PYTHONPATH=str(FAULTS), FAULT_KILL_IN_TIMER_STEP="1")
        try:
            _killed(first)
        finally:
            stop(first)
        row = _timer(api)
        assert (row.state, row.fired_count) == (WAITING, 0) and row.locked_by  # claimed, its step rolled back
        assert _open_tasks(api, number) == ["clarify"]
        second = _worker(api, server)  # takes the timer once the dead worker's lease has run out
        try:
            deadline = time.monotonic() + 30
            while _open_tasks(api, number) != ["clarify_late"]:
                assert time.monotonic() < deadline, f"the timer never fired again: {_timer(api)}"
                time.sleep(0.1)
        finally:
            stop(second)
    row = _timer(api)
    assert (row.state, row.fired_count) == (FIRED, 1)
    assert [event["kind"] for event in api.history(number)].count("timer_fired") == 1
