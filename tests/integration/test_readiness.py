"""Readiness (/api/v1/health/ready): database, schema at the newest migration, a worker seen recently."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from alembic import command
from flask.testing import FlaskClient

from service.app import create_app
from service.context import Context, build_context
from service.db import utcnow
from service.jobs.services import WORKER_ID
from service.migrations import alembic_config
from service.observability.heartbeat import Heartbeat
from tests.integration.conftest import Api


def ready(client: FlaskClient) -> tuple[int, dict[str, dict[str, object]]]:
    response = client.get("/api/v1/health/ready")  # no token
    body = response.get_json()
    assert body["status"] == ("ready" if response.status_code == 200 else "not_ready")
    return response.status_code, {name: check["ok"] for name, check in body["checks"].items()}  # type: ignore[misc]


def beat(ctx: Context, *, seconds_ago: float) -> None:
    Heartbeat(ctx.sessions, worker=WORKER_ID, every_seconds=5).beat(now=utcnow() - timedelta(seconds=seconds_ago))


def test_ready_when_a_worker_beat_recently(api: Api) -> None:
    beat(api.ctx, seconds_ago=1)
    assert ready(api.client) == (200, {"database": True, "schema": True, "worker": True})
    assert api.client.get("/api/v1/health").get_json() == {"status": "ok"}  # liveness stays as it was


def test_not_ready_without_a_worker_or_with_an_old_heartbeat(api: Api) -> None:
    status, checks = ready(api.client)
    assert (status, checks) == (503, {"database": True, "schema": True, "worker": False})
    limit = api.ctx.config.ready_worker_seconds
    beat(api.ctx, seconds_ago=limit + 5)
    assert ready(api.client) == (503, {"database": True, "schema": True, "worker": False})
    detail = api.client.get("/api/v1/health/ready").get_json()["checks"]["worker"]["detail"]
    assert f"more than {limit:g} s" in detail
    beat(api.ctx, seconds_ago=0)  # the same worker's next beat
    assert ready(api.client)[0] == 200


def test_the_readiness_window_is_configurable(api: Api) -> None:
    beat(api.ctx, seconds_ago=30)
    assert ready(api.client)[0] == 200
    strict = dataclasses.replace(api.ctx, config=dataclasses.replace(api.ctx.config, ready_worker_seconds=10))
    assert ready(create_app(context=strict).test_client())[0] == 503


def test_not_ready_while_the_schema_is_behind(ctx: Context, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    command.upgrade(alembic_config(url), "0003")
    behind = build_context(dataclasses.replace(ctx.config, database_url=url))
    try:
        client = create_app(context=behind).test_client()
        status, checks = ready(client)
        assert (status, checks["database"], checks["schema"]) == (503, True, False)
        detail = client.get("/api/v1/health/ready").get_json()["checks"]["schema"]["detail"]
        assert detail.startswith("at 0003, the newest is ") and "orchestrator migrate" in detail
        command.upgrade(alembic_config(url), "head")
        Heartbeat(behind.sessions, worker=WORKER_ID, every_seconds=5).beat()
        assert ready(client) == (200, {"database": True, "schema": True, "worker": True})
    finally:
        behind.engine.dispose()


def test_not_ready_when_the_database_is_unreachable(ctx: Context, tmp_path: Path) -> None:
    gone = build_context(dataclasses.replace(ctx.config, database_url=f"sqlite:///{tmp_path / 'no' / 'such.db'}"))
    status, checks = ready(create_app(context=gone).test_client())
    assert (status, checks) == (503, {"database": False, "schema": False, "worker": False})
