"""Metrics in gunicorn's multiprocess mode: two web workers and the job worker write one directory; any web worker
answers /metrics with the sums; a killed web worker's counts stay, its live gauge goes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector

from service.app import create_app
from service.auth.services import issue_token
from service.context import Context
from service.db import transaction
from tests.conftest import ROOT
from tests.e2e.conftest import _wait_healthy
from tests.support.metrics import Samples, parse, value
from tests.support.processes import stop
from tests.support.smtp import free_port
from tests.support.tickets import DEMO_TICKET

pytestmark = pytest.mark.e2e
HEALTH = {"method": "GET", "route": "/api/v1/health", "status": "200"}


@dataclass
class Processes:
    base: str
    metrics_dir: Path
    web: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    env: dict[str, str]
    logs: tuple[Path, Path]  # the stderr of gunicorn and of the worker

    def log_lines(self, which: int) -> list[dict[str, Any]]:
        """Every line one process logged; each must be one JSON object."""
        lines = self.logs[which].read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def scrape(self) -> Samples:
        response = requests.get(f"{self.base}/metrics", timeout=30)
        assert response.status_code == 200
        return parse(response.text)

    def requests_by_pid(self) -> dict[int, float]:
        """How many health checks each process counted, from its own file of the shared directory."""
        counts = {}
        for file in self.metrics_dir.glob("counter_*.db"):
            pid = int(file.stem.rpartition("_")[2])
            samples = {
                (sample.name, frozenset(sample.labels.items())): sample.value
                for family in MultiProcessCollector.merge([str(file)])
                for sample in family.samples
            }
            counts[pid] = value(samples, "orchestrator_http_requests_total", **HEALTH)
        return counts


@pytest.fixture
def processes(ctx: Context, tmp_path: Path) -> Iterator[Processes]:
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    env = {
        **os.environ,
        "DATABASE_URL": ctx.config.database_url,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "ORCHESTRATOR_MAILER": "console",
        "ORCHESTRATOR_FILE_STORE_ROOT": str(tmp_path / "files"),
        "ORCHESTRATOR_WORKER_POLL_SECONDS": "0.1",
    }
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "gunicorn"), "--config", "python:service.gunicorn_config", "--workers", "2"]
    logs = tmp_path / "web.log", tmp_path / "worker.log"
    with logs[0].open("wb") as web_log, logs[1].open("wb") as worker_log:
        web = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env, stdout=web_log, stderr=web_log
        )
        worker = subprocess.Popen(
            [str(bin_dir / "orchestrator"), "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=worker_log
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_healthy(base, web)
            yield Processes(base=base, metrics_dir=metrics_dir, web=web, worker=worker, env=env, logs=logs)
        finally:
            stop(worker)
            stop(web)


def _token(env: dict[str, str], username: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "service.cli", "token", username],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip().splitlines()[-1]


def test_two_web_workers_and_the_job_worker_are_counted_together(processes: Processes) -> None:
    base = value(processes.scrape(), "orchestrator_http_requests_total", **HEALTH)
    sent = 0
    with ThreadPoolExecutor(8) as pool:
        # Rounds until both web workers have served some: which worker accepts a connection is the kernel's choice.
        for _ in range(20):
            answers = list(pool.map(lambda _: requests.get(f"{processes.base}/api/v1/health", timeout=30), range(40)))
            assert {answer.status_code for answer in answers} == {200}
            sent += len(answers)
            if len([count for count in processes.requests_by_pid().values() if count]) == 2:
                break
    for _ in range(6):  # whichever web worker answers the scrape, it reports the sum of both
        assert value(processes.scrape(), "orchestrator_http_requests_total", **HEALTH) == base + sent
    by_pid = processes.requests_by_pid()
    served = {pid: count for pid, count in by_pid.items() if count}
    assert len(served) == 2 and sum(served.values()) == base + sent, by_pid  # both web workers served some

    # the job worker, another process, writes to the same directory: its jobs show in the web's /metrics
    ticket = dict(DEMO_TICKET)
    headers = {"Authorization": f"Bearer {_token(processes.env, 'duty')}"}
    opened = requests.post(f"{processes.base}/api/v1/tickets", json=ticket, headers=headers, timeout=30)
    assert opened.status_code == 201, opened.text
    deadline = time.monotonic() + 30
    while value(processes.scrape(), "orchestrator_jobs_total", topic="notify.duty_officers", result="done") < 1:
        assert time.monotonic() < deadline, "the worker's jobs never showed in /metrics"
        time.sleep(0.2)
    scraped = processes.scrape()
    assert value(scraped, "orchestrator_tickets_opened_total", channel="api") == 1
    assert value(scraped, "orchestrator_jobs_total", topic="files.create_folder", result="done") == 1
    assert processes.worker.pid not in served  # the job worker answers no HTTP

    # one JSON object per line from gunicorn and the app; the worker's lines of the ticket's jobs carry its request id
    web_lines = processes.log_lines(0)
    assert {"gunicorn.error", "orchestrator.access"} <= {line["logger"] for line in web_lines}
    assert all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in web_lines)
    rid = opened.headers["X-Request-ID"]
    assert [line for line in web_lines if line["request_id"] == rid and line.get("route") == "/api/v1/tickets"]
    jobs = {line["topic"]: line["request_id"] for line in processes.log_lines(1) if "job" in line}
    assert jobs == dict.fromkeys(("files.create_folder", "mail.ticket_opened", "notify.duty_officers"), rid)

    # a killed web worker: gunicorn marks it dead (its live gauge file goes), its counts stay in the sums
    victim = next(iter(served))
    live_gauge = processes.metrics_dir / f"gauge_livesum_{victim}.db"
    assert live_gauge.exists()
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while live_gauge.exists():
        assert time.monotonic() < deadline, "gunicorn did not mark the dead worker"
        time.sleep(0.1)
    _wait_healthy(processes.base, processes.web)
    after = processes.scrape()
    assert value(after, "orchestrator_http_requests_total", **HEALTH) >= base + sent
    assert value(after, "orchestrator_http_requests_in_progress") == 1  # only the scrape itself


def test_a_worker_on_its_own_host_serves_its_own_metrics(ctx: Context, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": ctx.config.database_url,
        "ORCHESTRATOR_MAILER": "console",
        "ORCHESTRATOR_FILE_STORE_ROOT": str(tmp_path / "files"),
        "ORCHESTRATOR_WORKER_POLL_SECONDS": "0.1",
        "ORCHESTRATOR_WORKER_METRICS_PORT": str(port),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "orchestrator"), "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = create_app(context=ctx).test_client()
        with transaction(ctx.sessions) as session:
            token = issue_token(session, username="duty")
        ticket = {
            "client": "NORD-BANK",
            "contact_email": "it@nord-bank.example",
            "equipment_serial": "IBM-FS5200-0001",
            "channel": "phone",
            "summary": "Array degraded",
        }
        assert (
            client.post("/api/v1/tickets", json=ticket, headers={"Authorization": f"Bearer {token}"}).status_code == 201
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                samples = parse(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
            except requests.ConnectionError:
                samples = {}
            if value(samples, "orchestrator_jobs_total", topic="notify.duty_officers", result="done") == 1:
                break
            assert time.monotonic() < deadline, "the worker's own /metrics never showed its jobs"
            time.sleep(0.2)
        assert value(samples, "orchestrator_jobs_total", topic="files.create_folder", result="done") == 1
    finally:
        stop(worker)
