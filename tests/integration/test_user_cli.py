"""`orchestrator user create|passwd|deactivate` and the demo's passwords, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from service.auth.models import ApiToken, User
from service.context import Context
from service.db import transaction
from tests.conftest import ROOT
from tests.integration.conftest import Api
from tests.support.signin import sign_in

PASSWORD = "a long enough passphrase"


def _orchestrator(ctx: Context, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": ctx.config.database_url}
    command = [sys.executable, "-m", "service.cli", *argv]
    return subprocess.run(command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120)


def test_user_create_with_a_password_signs_in(ctx: Context, api: Api) -> None:
    made = _orchestrator(
        ctx, "user", "create", "kate", "--role", "engineer", "--group", "storage-L1", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    signed = sign_in(api.client, "kate", PASSWORD)
    assert signed.status_code == 200 and signed.get_json()["roles"] == ["engineer"]
    assert _orchestrator(ctx, "user", "create", "kate").returncode == 2  # exists already


def test_user_create_refuses_unknown_roles_clients_and_a_weak_password(ctx: Context) -> None:
    role = _orchestrator(ctx, "user", "create", "x1", "--role", "wizard")
    assert role.returncode == 2 and "no role wizard" in role.stderr
    client = _orchestrator(ctx, "user", "create", "x2", "--role", "client", "--client", "NOPE")
    assert client.returncode == 2 and "no client 'NOPE'" in client.stderr
    weak = _orchestrator(ctx, "user", "create", "x3", "--password-stdin", stdin="short\n")
    assert weak.returncode == 2 and "10 characters" in weak.stderr


def test_a_client_user_without_a_password_is_for_an_invitation(ctx: Context, api: Api) -> None:
    made = _orchestrator(ctx, "user", "create", "anna", "--role", "client", "--client", "NORD-BANK")
    assert made.returncode == 0 and "without a password" in made.stdout
    with transaction(ctx.sessions) as session:
        anna = session.scalar(select(User).where(User.username == "anna"))
        assert anna is not None and anna.password_hash is None and anna.client_id is not None


def test_user_passwd_sets_the_password_and_ends_the_tokens(ctx: Context, api: Api) -> None:
    api.token("duty")
    result = _orchestrator(ctx, "user", "passwd", "duty", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert sign_in(api.client, "duty", PASSWORD).status_code == 200
    with transaction(ctx.sessions) as session:
        duty = session.scalar(select(User).where(User.username == "duty"))
        assert duty is not None
        kinds = set(session.scalars(select(ApiToken.kind).where(ApiToken.user_id == duty.id)))
    assert kinds == {"session"}  # the sign-in just now; the bearer token of before is gone


def test_user_deactivate_ends_every_session_and_token_at_once(ctx: Context, api: Api) -> None:
    token = api.token("rmc")
    result = _orchestrator(ctx, "user", "deactivate", "rmc")
    assert result.returncode == 0 and "1 sessions and tokens ended" in result.stdout, result.stdout
    assert _user_id(ctx, "rmc")
    assert api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_demo_gives_every_demo_user_the_password_demo_and_says_so(ctx: Context, api: Api) -> None:
    first = _orchestrator(ctx, "demo")
    assert first.returncode == 0, first.stderr
    assert "password 'demo' set for the demo users that had none" in first.stdout
    assert "signs in with the password 'demo'" in first.stdout
    assert sign_in(api.client, "nordbank", "demo").status_code == 200
    again = _orchestrator(ctx, "demo", "--no-tokens")
    assert again.returncode == 0 and "password 'demo' set" not in again.stdout


def _user_id(ctx: Context, username: str) -> int:
    with transaction(ctx.sessions) as session:
        found = session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found
