"""The commands, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from service.context import Context
from tests.conftest import ROOT
from tests.integration.conftest import Api


def _run(ctx: Context, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": ctx.config.database_url}
    return subprocess.run(list(argv), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_token_through_the_flask_cli_authenticates(ctx: Context, api: Api) -> None:
    flask = str(Path(sys.executable).parent / "flask")
    result = _run(ctx, flask, "--app", "service.wsgi", "orchestrator", "token", "rmc")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    response = api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_token_for_an_unknown_user_fails_clearly(ctx: Context) -> None:
    result = _run(ctx, sys.executable, "-m", "service.cli", "token", "nobody")
    assert result.returncode == 2
    assert result.stderr.strip() == "orchestrator token: no user 'nobody'"


def test_demo_and_migrate_are_idempotent(ctx: Context) -> None:
    for _ in range(2):
        assert _run(ctx, sys.executable, "-m", "service.cli", "migrate").returncode == 0
        demo = _run(ctx, sys.executable, "-m", "service.cli", "demo", "--no-tokens")
        assert demo.returncode == 0 and "demo data loaded" in demo.stdout
