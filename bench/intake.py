"""Ticket intake through the API (gunicorn, 2 workers) against the bare engine running the same diagram in-process."""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT, fresh_database, label, prepared, wait_http
from bench.floor_app import floor_row
from service import engine
from service.auth.services import issue_token
from service.db import make_engine, transaction
from tests.support.smtp import free_port
from tests.support.tickets import DEMO_TICKET

START_DATA = {
    "ticket": "SD-000001",
    "client": "NORD-BANK",
    "client_name": "Nord Bank",
    "contact_email": "it@nord-bank.example",
    "channel": "api",
    "summary": "Array degraded",
    "description": "",
    "severity": "high",
    "category": "hardware",
    "equipment_serial": "IBM-FS5200-0001",
    "equipment_class": "storage",
    "equipment_vendor": "IBM",
    "contract_status": "active",
    "contract_covers_class": True,
    "service_level": "gold",
    "paid": False,
}


def bare_engine_seconds_per_ticket(count: int = 300) -> float:
    """Start the ticket diagram and run it to its first wait, then serialise it: no HTTP, no database."""
    definition = engine.load_definition((ROOT / "processes" / "ticket.bpmn").read_bytes(), filename="ticket.bpmn")

    def decide(name: str, facts: dict) -> object:  # intake reaches no decision; present for completeness
        raise AssertionError(name)

    for _ in range(20):  # warm-up
        run = definition.start(dict(START_DATA), decide=decide)
        run.advance()
        run.serialize()
    started = time.perf_counter()
    for _ in range(count):
        run = definition.start(dict(START_DATA), decide=decide)
        run.advance()
        run.serialize()
    return (time.perf_counter() - started) / count


@dataclass(frozen=True)
class Load:
    """What each client posts, again and again, to a gunicorn app."""

    app: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    ready_path: str


def _post(port: int, load: Load, count: int, errors: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {**load.headers, "Content-Type": "application/json"}
    body = json.dumps(load.body)
    for _ in range(count):
        conn.request("POST", load.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 201:
            errors.append(str(response.status))
    conn.close()


def seconds_per_request(
    load: Load, env: dict[str, str], requests: int, clients: int = 8, rounds: int = 3
) -> list[float]:
    """The load posted through gunicorn (2 workers) by `clients` threads, in rounds; the wall seconds per request of
    each round."""
    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    command = [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning", load.app]
    web = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    try:
        wait_http(port, load.ready_path)
        errors: list[str] = []
        _post(port, load, 20, errors)  # warm-up: every worker loads what it caches (the diagram, the rules)
        per_client = requests // clients // rounds
        figures = []
        for _ in range(rounds):
            threads = [threading.Thread(target=_post, args=(port, load, per_client, errors)) for _ in range(clients)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            figures.append((time.perf_counter() - started) / (per_client * clients))
        if errors:
            raise SystemExit(f"{len(errors)} requests failed: {sorted(set(errors))}")
        return figures
    finally:
        web.terminate()
        web.wait(30)


def api_seconds_per_ticket(url: str | None, tickets: int) -> list[float]:
    """Tickets opened through the API over a fresh database holding the demo data."""
    ctx = prepared(url)
    with transaction(ctx.sessions) as session:
        token = issue_token(session, username="duty")
    load = Load(
        "service.wsgi:app", "/api/v1/tickets", DEMO_TICKET, {"Authorization": f"Bearer {token}"}, "/api/v1/health"
    )
    try:
        return seconds_per_request(
            load, {"DATABASE_URL": ctx.config.database_url, "ORCHESTRATOR_MAILER": "console"}, tickets
        )
    finally:
        ctx.engine.dispose()


def floor_seconds_per_request(url: str | None, requests: int) -> list[float]:
    """The stack's floor (`bench/floor_app.py`: one validated row inserted per request) on the same database."""
    database_url = fresh_database(url)
    engine = make_engine(database_url)
    floor_row.create(engine)
    engine.dispose()
    load = Load("bench.floor_app:create_app()", "/floor", {"summary": DEMO_TICKET["summary"]}, {}, "/")
    return seconds_per_request(load, {"DATABASE_URL": database_url}, requests)


def run(url: str | None, *, tickets: int = 1500) -> dict[str, float]:
    """Print intake throughput and its ratio to the bare engine, measured in this run."""
    bare = bare_engine_seconds_per_ticket()
    rounds = api_seconds_per_ticket(url, tickets)
    floor = statistics.median(floor_seconds_per_request(url, tickets))
    api = statistics.median(rounds)
    figures = {
        "tickets_per_second": 1 / api,
        "bare_per_second": 1 / bare,
        "ratio": api / bare,
        "floor_per_second": 1 / floor,
        "floor_ratio": floor / bare,
    }
    print(
        f"intake [{label(url)}]: {figures['tickets_per_second']:.0f} tickets/s through the API "
        f"(gunicorn, 2 workers, 8 clients; median of rounds at {', '.join(f'{1 / r:.0f}' for r in rounds)}); "
        f"bare engine {figures['bare_per_second']:.0f} tickets/s in-process; "
        f"cost per ticket {figures['ratio']:.2f}x the bare engine; "
        f"the stack's floor (one row per request through the same gunicorn, Flask and SQLAlchemy) "
        f"{figures['floor_per_second']:.0f} requests/s, {figures['floor_ratio']:.2f}x the bare engine"
    )
    return figures
