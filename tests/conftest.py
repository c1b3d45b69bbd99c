"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL with DATABASE_URL), demo data, the app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, create_engine, select, text

from service.config import Config
from service.context import Context, build_context
from service.db import Base, transaction, utcnow
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


#: The schema's sequences, by name.
_SEQUENCES = "SELECT relname FROM pg_class WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace ORDER BY 1"


#: Each named sequence put at its value, called or not (one round trip for all).
_SET_SEQUENCES = (
    "SELECT setval(name::regclass, value, called) FROM unnest(CAST(:names AS text[]), CAST(:values AS bigint[]), "
    "CAST(:called AS boolean[])) AS s(name, value, called)"
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


def _load(ctx: Context) -> None:
    """Load the demo data and deploy the shipped processes and rules into the emptied database."""
    with transaction(ctx.sessions) as session:
        load_demo(session)
    lines = deploy_all(ctx, rules_dir=ctx.config.rules_dir, processes_dir=ctx.config.processes_dir, actor="tests")
    assert all(line.ok for line in lines), lines
    with ctx.engine.begin() as conn:  # the shipped timer start events wait unscheduled: tests fire timers at will
        conn.execute(DueTimer.__table__.delete().where(DueTimer.instance_id.is_(None)))


@dataclass(frozen=True)
class Snapshot:
    """The rows a fill left, and its sequences' positions, to be put back as they were: the same ids, the same values.

    Every time in them is a moment of the fill (checked when it is taken), so a copy put back later has its times
    moved by as much as the clock has gone on since the last of them: that one becomes now, the others keep their
    distance to it. The demo's dates are counted from the day of the fill, so a snapshot serves that day only.
    """

    day: date
    latest: datetime  # the last time in the rows
    rows: list[tuple[Table, list[dict[str, Any]]]]
    sequences: list[tuple[str, int, bool]]

    @classmethod
    def take(cls, ctx: Context, *, started: datetime, day: date) -> Snapshot:
        ended = utcnow()
        rows, times = [], []
        with ctx.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                table_rows = [dict(row) for row in conn.execute(select(table)).mappings()]
                for row in table_rows:
                    for column, value in row.items():
                        if isinstance(value, datetime):
                            assert started <= value <= ended, (
                                f"{table.name}.{column} holds {value}, a time not of the fill's moment: the snapshot "
                                "would move it with the clock"
                            )
                            times.append(value)
                if table_rows:
                    rows.append((table, table_rows))
            sequences = []
            if ctx.engine.dialect.name == "postgresql":
                for name in conn.scalars(text(_SEQUENCES)):
                    position = conn.execute(text(f'SELECT last_value, is_called FROM "{name}"')).one()
                    sequences.append((name, position.last_value, position.is_called))
        return cls(day=day, latest=max(times, default=ended), rows=rows, sequences=sequences)

    def restore(self, ctx: Context) -> None:
        """Put the rows back, their times moved to now, and the sequences where they were."""
        moved = utcnow() - self.latest
        with ctx.engine.begin() as conn:
            for table, rows in self.rows:
                conn.execute(
                    table.insert(),
                    [{k: v + moved if isinstance(v, datetime) else v for k, v in row.items()} for row in rows],
                )
            if self.sequences:
                names, values, called = (list(column) for column in zip(*self.sequences, strict=True))
                conn.execute(text(_SET_SEQUENCES), {"names": names, "values": values, "called": called})


#: The fill's snapshot of each database, taken by its first fill of the day.
_snapshots: dict[str, Snapshot] = {}


def fill(ctx: Context) -> None:
    """Empty the database, then put in exactly the demo data and the shipped processes and rules.

    The first fill of a database (and of a day) loads and deploys them, which costs more than most tests; the others
    put its rows back (see Snapshot).
    """
    _empty(ctx)
    url, day, started = ctx.config.database_url, date.today(), utcnow()
    snapshot = _snapshots.get(url)
    if snapshot is not None and snapshot.day == day:
        snapshot.restore(ctx)
    else:
        _load(ctx)
        _snapshots[url] = Snapshot.take(ctx, started=started, day=day)
    ctx.rules.refresh_seconds = 0.0
    forget_service_levels()  # the database was emptied under this process: its cached rows' ids are gone


@pytest.fixture
def ctx(session_ctx: Context, smtp_server: SmtpTestServer) -> Context:
    """The context over a database holding exactly the demo data and the shipped processes and rules."""
    fill(session_ctx)
    smtp_server.clear()
    return session_ctx
