"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from service.context import Context
from service.db import make_engine
from service.migrations import alembic_config
from service.models import Base


def test_migrations_match_the_models(ctx: Context) -> None:
    with ctx.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the suite's kind: a SQLite file, or a PostgreSQL schema of its own."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'upgrade.db'}"
        return
    admin = make_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS upgrade_check CASCADE"))
        conn.execute(text("CREATE SCHEMA upgrade_check"))
    separator = "&" if "?" in database_url else "?"
    yield f"{database_url}{separator}options=-csearch_path%3Dupgrade_check"
    with admin.begin() as conn:
        conn.execute(text("DROP SCHEMA upgrade_check CASCADE"))
    admin.dispose()


def test_upgrade_keeps_every_ticket_and_its_history(empty_url: str) -> None:
    """Migration 0003 regenerates the ticket number (rebuilding the table on SQLite): numbers and history stay."""
    url = empty_url
    command.upgrade(alembic_config(url), "0002")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO client (id, code, name) VALUES (1, 'C', 'C')"))
        conn.execute(text("INSERT INTO contact (id, client_id, email, name, confirmed) VALUES (1, 1, 'a@c', '', true)"))
        conn.execute(
            text(
                "INSERT INTO ticket (id, number, created_at, updated_at, client_id, contact_id, channel, summary,"
                " description, severity, category, status, paid, created_by)"
                " VALUES (7, 'SD-000007', :now, :now, 1, 1, 'api', 's', '', 'normal', 'hardware', 'new', false, 'x')"
            ),
            {"now": "2026-11-27 10:00:00"},
        )
        conn.execute(
            text("INSERT INTO history_event (ticket_id, at, actor, kind, detail) VALUES (7, :now, 'x', 'k', '{}')"),
            {"now": "2026-11-27 10:00:00"},
        )
    engine.dispose()
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT number FROM ticket")).scalar_one() == "SD-000007"
        assert conn.execute(text("SELECT count(*) FROM history_event WHERE ticket_id = 7")).scalar_one() == 1
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        conn.execute(
            text(
                "INSERT INTO ticket (id, created_at, updated_at, client_id, contact_id, channel, summary,"
                " description, severity, category, status, paid, created_by)"
                " VALUES (1234567, :now, :now, 1, 1, 'api', 's', '', 'normal', 'hardware', 'new', false, 'x')"
            ),
            {"now": "2026-11-27 10:00:00"},
        )
        assert conn.execute(text("SELECT number FROM ticket WHERE id = 1234567")).scalar_one() == "SD-1234567"
    engine.dispose()


@pytest.fixture
def postgres_url(database_url: str) -> str:
    """The suite's PostgreSQL database, or else the one at TEST_POSTGRES_URL (by default the local `test`)."""
    if database_url.startswith("postgresql"):
        return database_url
    url = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError:
        pytest.skip(f"needs PostgreSQL: none answers at {url} (set TEST_POSTGRES_URL)")
    finally:
        engine.dispose()
    return url


def test_a_pooled_connection_the_server_dropped_is_replaced(postgres_url: str) -> None:
    """After a database restart the first request works: an idle connection is checked and replaced when dead."""
    database_url = postgres_url
    engine = make_engine(database_url, ping_after_idle_seconds=0.0)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin = make_engine(database_url)
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        admin.dispose()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()
