"""SLA through the real worker with a moved clock: gunicorn and the worker run as processes whose clocks are moved
(tests/support/timeshift.py); warnings and breaches appear once, at the right business moment, also after the
worker was down; e-mails reach the SMTP server; breach reviews open; the reports and their CSV add up."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from service.context import Context
from tests.conftest import ROOT
from tests.e2e.conftest import Stack, _wait_healthy
from tests.support.processes import stop
from tests.support.sla import at, plain_friday
from tests.support.smtp import SmtpServerProcess, free_port

pytestmark = pytest.mark.e2e


class ShiftedStack:
    """The web app and the worker as processes, each started with its clock at a chosen moment."""

    def __init__(self, ctx: Context, tmp: Path, smtp: SmtpServerProcess) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": ctx.config.database_url,
            "ORCHESTRATOR_MAILER": "smtp",
            "ORCHESTRATOR_SMTP_HOST": "127.0.0.1",
            "ORCHESTRATOR_SMTP_PORT": str(smtp.port),
            "ORCHESTRATOR_FILE_STORE_ROOT": str(tmp / "files"),
            "ORCHESTRATOR_WORKER_POLL_SECONDS": "0.1",
        }
        self.smtp = smtp
        self.sessions = ctx.sessions
        self.tmp = tmp
        self.web: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.stack: Stack | None = None

    def _start(self, moment: datetime, *command: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.support.timeshift", moment.isoformat(), "-m", *command],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def serve(self, moment: datetime) -> Stack:
        """(Re)start the web app with its clock at `moment`."""
        if self.web is not None:
            stop(self.web)
        port = free_port()
        self.web = self._start(moment, "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "service.wsgi:app")
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, self.web)
        tokens = self.stack.tokens if self.stack else {}
        self.stack = Stack(
            base=base, smtp=self.smtp, files=self.tmp / "files", env=self.env, sessions=self.sessions, tokens=tokens
        )
        return self.stack

    def work(self, moment: datetime | None) -> None:
        """(Re)start the worker with its clock at `moment`, or only stop it (None)."""
        if self.worker is not None:
            stop(self.worker)
            self.worker = None
        if moment is not None:
            self.worker = self._start(moment, "service.cli", "worker")

    def close(self) -> None:
        self.work(None)
        if self.web is not None:
            stop(self.web)


@pytest.fixture
def shifted(ctx: Context, tmp_path: Path) -> Iterator[ShiftedStack]:
    with SmtpServerProcess(tmp_path / "mail.jsonl") as smtp:
        stack = ShiftedStack(ctx, tmp_path, smtp)
        try:
            yield stack
        finally:
            stack.close()


def _until(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.1)
    return result


def _sla_events(stack: Stack, number: str) -> list[str]:
    history = stack.call("GET", f"/tickets/{number}/history?page_size=200", as_="admin").json()["items"]
    return [f"{e['detail']['clock']}.{e['kind'][4:]}" for e in history if e["kind"] in ("sla_warning", "sla_breach")]


def _sla_mails(stack: Stack, number: str) -> list[dict[str, Any]]:
    return [m for m in stack.smtp.messages() if number in m["subject"] and "SLA" in m["subject"]]


def _complete(stack: Stack, number: str, name: str, data: dict[str, Any], *, as_: str) -> None:
    def task() -> list[dict[str, Any]]:
        return stack.call("GET", f"/tasks?ticket={number}&name={name}", as_=as_).json()["items"]

    [found] = _until(f"{as_} sees {name} of {number}", task)
    response = stack.call("POST", f"/tasks/{found['id']}/complete", as_=as_, json={"data": data})
    assert response.status_code == 200, response.text


def test_warnings_and_breaches_fire_once_at_the_right_business_moment(shifted: ShiftedStack) -> None:
    friday = plain_friday(date.today() + timedelta(days=3))
    stack = shifted.serve(at(friday, 17))
    shifted.work(at(friday, 17))
    mega = {"client": "MEGA-RETAIL", "contact_email": "it@mega-retail.example", "equipment_serial": "DELL-R740-0002"}
    nord = {"client": "NORD-BANK", "contact_email": "it@nord-bank.example", "equipment_serial": "IBM-FS5200-0001"}
    # silver and gold are critical; the witness (gold, low) has events due at moments that prove a worker ran
    tickets = {"silver": (mega, "critical"), "gold": (nord, "critical"), "witness": (nord, "low")}
    numbers = {}
    for name, (fields, severity) in tickets.items():
        body = {**fields, "channel": "portal", "summary": name, "severity": severity, "category": "hardware"}
        response = stack.call("POST", "/tickets", as_="duty", json=body)
        assert response.status_code == 201, response.text
        numbers[name] = response.json()["number"]
    silver, gold, witness = numbers["silver"], numbers["gold"], numbers["witness"]
    for number in numbers.values():
        _complete(stack, number, "clarify", {"description": "down"}, as_="duty")
        stack.wait_for(number, lambda t: t["status"] == "in_progress")
    due = stack.call("GET", f"/tickets/{silver}", as_="admin").json()["sla"]["reaction"]["due_at"]
    assert due.startswith(f"{(friday + timedelta(days=3)).isoformat()}T10:00")

    # The worker was down since Friday and comes back on Saturday: what became due fires once; silver's nothing.
    shifted.work(at(friday, 12, plus_days=1))
    _until("gold's four events", lambda: len(_sla_events(stack, gold)) == 4)
    _until("the witness's reaction", lambda: _sla_events(stack, witness) == ["reaction.warning", "reaction.breach"])
    assert _sla_events(stack, silver) == []

    # Monday 09:30, back again: the witness's resolution warning (due 02:36) fires, nothing fires twice, and
    # silver's warning (09:36) waits for its moment.
    shifted.work(at(friday, 9, 30, plus_days=3))
    _until("the witness's resolution warning", lambda: len(_sla_events(stack, witness)) == 3)
    assert _sla_events(stack, silver) == []
    assert sorted(_sla_events(stack, gold)) == sorted(
        ["reaction.warning", "reaction.breach", "resolution.warning", "resolution.breach"]
    )
    shifted.work(at(friday, 9, 40, plus_days=3))
    _until("silver's warning", lambda: _sla_events(stack, silver) == ["reaction.warning"])
    shifted.work(at(friday, 10, 5, plus_days=3))
    _until("silver's breach", lambda: _sla_events(stack, silver) == ["reaction.warning", "reaction.breach"])
    _until(
        "nine SLA e-mails",
        lambda: [len(_sla_mails(stack, n)) for n in (silver, gold, witness)] == [2, 4, 3],
    )
    mail = _sla_mails(stack, silver)[1]
    assert "SLA breach" in mail["subject"] and "manager@orchestrator.example" in mail["recipients"]
    assert "servers.l1@orchestrator.example" in mail["recipients"]

    # The engineers solve silver and gold on Monday; the web app now lives on Monday too.
    stack = shifted.serve(at(friday, 10, 10, plus_days=3))
    shifted.work(at(friday, 10, 10, plus_days=3))
    for number, engineer in ((silver, "servers.l1"), (gold, "storage.l1")):
        _complete(stack, number, "resolve", {"outcome": "solved", "hours": 1}, as_=engineer)
        stack.wait_for(number, lambda t: t["status"] == "closed")
    assert [len(_sla_events(stack, n)) for n in (silver, gold, witness)] == [2, 4, 3]

    reviews = stack.call("GET", "/sla/reviews", as_="manager").json()["items"]
    assert sorted((r["ticket"], r["clock"]) for r in reviews) == sorted(
        [(silver, "reaction"), (gold, "reaction"), (gold, "resolution"), (witness, "reaction")]
    )
    for review in reviews:
        data = {"reason": "capacity" if review["ticket"] == silver else "vendor_delay", "comment": "weekend"}
        response = stack.call("POST", f"/sla/reviews/{review['id']}/complete", as_="manager", json={"data": data})
        assert response.status_code == 200, response.text

    # The reports add up to the tickets' own clocks, in JSON and in CSV.
    own = {n: stack.call("GET", f"/tickets/{n}", as_="admin").json()["sla"] for n in numbers.values()}
    assert own[silver]["reaction"]["state"] == "breached" and own[silver]["resolution"]["state"] == "met"
    assert own[gold]["resolution"]["state"] == "breached" and own[witness]["resolution"]["state"] == "running"
    report = stack.call("GET", "/reports/sla?group_by=client,service_level", as_="manager").json()
    for clock in ("reaction", "resolution"):
        states = [own[n][clock]["state"] for n in own]
        assert report["summary"][clock] == {
            "tickets": 3,
            "met": states.count("met"),
            "breached": states.count("breached"),
        }
    breaches = stack.call("GET", "/reports/breaches", as_="manager").json()
    assert breaches["summary"] == {"breaches": 4, "by_reason": {"capacity": 1, "vendor_delay": 3}}
    text = stack.call("GET", "/reports/sla?group_by=client&format=csv", as_="manager").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sum(int(row["breached"]) for row in rows) == 4 and sum(int(row["met"]) for row in rows) == 1
    assert sum(int(row["open"]) for row in rows) == 1
    text = stack.call("GET", "/reports/breaches", as_="manager", headers={"Accept": "text/csv"}).text
    reasons = sorted(row["reason"] for row in csv.DictReader(io.StringIO(text)))
    assert reasons == ["capacity", "vendor_delay", "vendor_delay", "vendor_delay"]
