"""What the benchmarks share: a fresh database with the demo data and the shipped processes and rules."""

from __future__ import annotations

import http.client
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

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
