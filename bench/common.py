"""What the benchmarks share: a fresh database with the demo data and the shipped processes and rules."""

from __future__ import annotations

import http.client
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from sqlalchemy import Engine, TextClause, create_engine, text

from adapters.mail import ConsoleMailer
from service.config import Config
from service.context import Context, build_context
from service.db import transaction
from service.demo import load_demo
from service.deploy import deploy_all
from service.migrations import upgrade

ROOT = Path(__file__).resolve().parent.parent


def fresh_database(url: str | None) -> str:
    """An empty database at the newest schema: a temporary SQLite file, or the given one emptied."""
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/bench.db"
    else:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    return url


def prepared(url: str | None, **overrides: object) -> Context:
    """A context over a fresh database holding the demo data and the deployed processes and rules."""
    config = Config(
        database_url=fresh_database(url),
        file_store_root=tempfile.mkdtemp(prefix="bench-files-"),
        mailer="console",
        **overrides,  # type: ignore[arg-type]
    )
    ctx = build_context(config)
    ctx.mailer = ConsoleMailer(stream=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the benchmark
    with transaction(ctx.sessions) as session:
        load_demo(session)
    lines = deploy_all(ctx, rules_dir=str(ROOT / "rules"), processes_dir=str(ROOT / "processes"), actor="bench")
    assert all(line.ok for line in lines), lines
    return ctx


def label(url: str | None) -> str:
    """SQLite or PostgreSQL."""
    return "PostgreSQL" if url and url.startswith("postgresql") else "SQLite"


def wait_http(port: int, path: str) -> None:
    """Wait until something on 127.0.0.1:port answers GET path (a minute at most)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def times(call: Callable[[], Any], *, repeats: int = 30) -> tuple[float, float]:
    """p50 and p95 of `call` in milliseconds, after one warm-up."""
    call()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def floor_page(engine: Engine, statement: TextClause, params: dict[str, Any]) -> Callable[[], Any]:
    """The stack's floor for a list page: a bare Flask view (no token, no schema) that runs `statement` with
    `params` and answers its rows as JSON, called through Flask's test client as the API is. The API's page against
    it is what the service adds over any list on this stack; against the plain SQL, what it adds over the database."""
    app = Flask("floor")

    @app.get("/page")
    def page() -> Any:
        with engine.connect() as conn:
            rows = conn.execute(statement, params).mappings().all()
        return jsonify([dict(row) for row in rows])

    client = app.test_client()

    def call() -> Any:
        response = client.get("/page")
        assert response.status_code == 200, response.data
        return response

    return call


def rss_mib(pid: int | str = "self") -> float:
    """A process's resident memory now (this one's unless told), in MiB (Linux)."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def rss_over(pages: int, page: Callable[[str | None], Any]) -> tuple[float, float]:
    """RSS before and after walking `pages` pages of a list (`page(cursor)` answers a page; from the start again
    at its end), after a first walk of as many to warm the caches."""

    def walk() -> None:
        cursor = None
        for _ in range(pages):
            cursor = page(cursor).get_json()["next"]

    walk()
    before = rss_mib()
    walk()
    return before, rss_mib()
