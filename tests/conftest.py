"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL with DATABASE_URL), demo data, the app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from service.config import Config
from service.context import Context, build_context
from service.db import Base, transaction
from service.demo import load_demo
from service.deploy import deploy_all
from service.migrations import upgrade
from service.sla.levels import forget_service_levels
from service.timers.models import DueTimer
from tests.support.smtp import SmtpTestServer

ROOT = Path(__file__).resolve().parent.parent


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database at the newest schema, emptied first."""
    url = _database_url(tmp_path_factory)
    if url.startswith("postgresql"):
        _reset_postgres(url)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpTestServer]:
    """A real SMTP server on loopback."""
    with SmtpTestServer() as server:
        yield server


@pytest.fixture(scope="session")
def config(database_url: str, smtp_server: SmtpTestServer, tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The configuration tests run with: the test database, the loopback SMTP server, a temporary file store."""
    return Config(
        database_url=database_url,
        processes_dir=str(ROOT / "processes"),
        rules_dir=str(ROOT / "rules"),
        file_store_root=str(tmp_path_factory.mktemp("files")),
        file_store_base_url="https://files.test/tickets",
        mailer="smtp",
        public_base_url="https://desk.test",
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        job_backoff_seconds=0.0,
        rules_refresh_seconds=0.0,
        process_refresh_seconds=0.0,
    )


@pytest.fixture(scope="session")
def session_ctx(config: Config) -> Iterator[Context]:
    """One context for the whole run, like one process of the service."""
    ctx = build_context(config)
    yield ctx
    ctx.engine.dispose()


#: Every sequence of the schema (the id columns') gives 1 next, as TRUNCATE ... RESTART IDENTITY would.
_RESTART_SEQUENCES = (
    "SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"
)


def _empty(ctx: Context) -> None:
    """Delete every row, children first, and start the ids again at 1.

    DELETE rather than TRUNCATE on PostgreSQL too: the tables hold a few rows each, and truncating 30-odd tables
    (new files for each, then a sync) costs about a second a test where deleting their rows costs a few milliseconds.
    """
    with ctx.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        if ctx.engine.dialect.name == "postgresql":  # SQLite gives a table without rows ids from 1 again by itself
            conn.execute(text(_RESTART_SEQUENCES))
    ctx.definitions.forget_versions()  # the ids of the versions deployed next are those of the ones deleted


def fill(ctx: Context) -> None:
    """Empty the database, then load exactly the demo data and deploy the shipped processes and rules."""
    _empty(ctx)
    with transaction(ctx.sessions) as session:
        load_demo(session)
    lines = deploy_all(ctx, rules_dir=ctx.config.rules_dir, processes_dir=ctx.config.processes_dir, actor="tests")
    assert all(line.ok for line in lines), lines
    with ctx.engine.begin() as conn:  # the shipped timer start events wait unscheduled: tests fire timers at will
        conn.execute(DueTimer.__table__.delete().where(DueTimer.instance_id.is_(None)))
    ctx.rules.refresh_seconds = 0.0
    forget_service_levels()  # the database was emptied under this process: its cached rows' ids are gone


@pytest.fixture
def ctx(session_ctx: Context, smtp_server: SmtpTestServer) -> Context:
    """The context over a database holding exactly the demo data and the shipped processes and rules."""
    fill(session_ctx)
    smtp_server.clear()
    return session_ctx
