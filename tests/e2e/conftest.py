"""Real processes: gunicorn (2 workers by default), the worker and an SMTP server, over the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy.orm import Session, sessionmaker

from service.auth.services import issue_token
from service.context import Context
from service.db import transaction
from tests.conftest import ROOT
from tests.support.processes import stop
from tests.support.smtp import SmtpServerProcess, free_port


@dataclass
class Stack:
    """The running service, and a client for it."""

    base: str
    smtp: SmtpServerProcess
    files: Path
    env: dict[str, str]
    sessions: sessionmaker[Session]
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, username: str) -> str:
        """A token of the user, issued straight into the stack's database, as `orchestrator token` does (that command
        is tests/integration/test_cli.py's): starting the CLI for each user would cost seconds each."""
        if username not in self.tokens:
            with transaction(self.sessions) as session:
                self.tokens[username] = issue_token(session, username=username)
        return self.tokens[username]

    def call(self, method: str, path: str, *, as_: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token(as_)}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.base}/api/v1{path}", headers=headers, timeout=30, **kwargs)

    def wait_for(self, number: str, predicate: Any, timeout: float = 30.0) -> dict[str, Any]:
        """Poll the ticket until `predicate(ticket)` holds (the worker runs jobs in its own time)."""
        deadline = time.monotonic() + timeout
        while True:
            ticket = self.call("GET", f"/tickets/{number}", as_="admin").json()
            if predicate(ticket):
                return ticket
            if time.monotonic() > deadline:
                raise AssertionError(f"ticket {number} never got there; it is {ticket}")
            time.sleep(0.1)

    def complete(self, number: str, name: str, data: dict[str, Any], *, as_: str, timeout: float = 30.0) -> None:
        """Complete the task once it shows in the caller's queue (a job may still be running before it)."""
        deadline = time.monotonic() + timeout
        while not (tasks := self.call("GET", f"/tasks?ticket={number}&name={name}", as_=as_).json()["items"]):
            assert time.monotonic() < deadline, f"{as_} has no {name} task for {number}"
            time.sleep(0.1)
        response = self.call("POST", f"/tasks/{tasks[0]['id']}/complete", as_=as_, json={"data": data})
        assert response.status_code == 200, response.text

    def deploy(self, xml: bytes) -> None:
        """Deploy a diagram as the process owner, and give the web processes the time to see the new version (they
        look for one at most every second)."""
        response = self.call(
            "POST", "/process-definitions", as_="owner", data=xml, headers={"Content-Type": "application/xml"}
        )
        assert response.status_code == 201, response.text
        time.sleep(1.5)


def _wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        try:  # a worker still importing the app answers late: wait for it rather than fail
            if requests.get(f"{base}/api/v1/health", timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /health")


@pytest.fixture
def stack(ctx: Context, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """gunicorn, the worker and an SMTP server as real processes, over the demo data.

    gunicorn runs 2 workers, or as many as an indirect parametrization of `stack` asks for.
    """
    workers = str(getattr(request, "param", 2))
    with SmtpServerProcess(tmp_path / "mail.jsonl") as smtp:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": ctx.config.database_url,
            "ORCHESTRATOR_MAILER": "smtp",
            "ORCHESTRATOR_SMTP_HOST": "127.0.0.1",
            "ORCHESTRATOR_SMTP_PORT": str(smtp.port),
            "ORCHESTRATOR_FILE_STORE_ROOT": str(tmp_path / "files"),
            "ORCHESTRATOR_FILE_STORE_BASE_URL": "https://files.test/tickets",
            "ORCHESTRATOR_WORKER_POLL_SECONDS": "0.1",
        }
        bin_dir = Path(sys.executable).parent
        web = subprocess.Popen(
            [
                *(str(bin_dir / "gunicorn"), "--config", "python:service.gunicorn_config"),
                *("--bind", f"127.0.0.1:{port}", "--workers", workers, "service.wsgi:app"),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        worker = subprocess.Popen(
            [str(bin_dir / "orchestrator"), "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_healthy(base, web)
            yield Stack(base=base, smtp=smtp, files=tmp_path / "files", env=env, sessions=ctx.sessions)
        finally:
            stop(worker)
            stop(web)
