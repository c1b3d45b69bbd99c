"""Password resets and invitations: a single-use link by mail (through the worker), with an expiry, in the
person's language; asking never tells whether the person exists."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from adapters.mail import MailError, OutgoingMail
from service.auth.models import SigninLink, User
from service.db import transaction, utcnow
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.signin import PASSWORD, set_password, sign_in
from tests.support.smtp import SmtpTestServer

NEW = "a much better passphrase"


def _link_token(smtp_server: SmtpTestServer) -> tuple[str, str]:
    [mail] = smtp_server.wait_for_count(1)
    found = re.search(r"https://desk\.test/password\?token=([\w-]+)", mail.body)
    assert found, mail.body
    return found.group(1), mail.subject


def _ask(api: Api, login: str) -> None:
    response = api.client.post("/api/v1/auth/password-reset", json={"login": login})
    assert response.status_code == 202, response.get_json()
    drain(api.ctx)


def _confirm(api: Api, token: str, password: str = NEW):  # type: ignore[no-untyped-def]
    return api.client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": password})


def test_a_reset_link_sets_the_password_once_and_ends_the_old_sessions(api: Api, smtp_server: SmtpTestServer) -> None:
    set_password(api.ctx, "duty")
    old = {"Authorization": f"Bearer {api.token('duty')}"}
    _ask(api, "duty@orchestrator.example")
    token, subject = _link_token(smtp_server)
    assert subject == "Сброс пароля"  # the person's language: Russian by default
    assert _confirm(api, token).status_code == 204
    assert api.client.get("/api/v1/tasks", headers=old).status_code == 401
    assert sign_in(api.client, "duty").status_code == 401
    assert sign_in(api.client, "duty", NEW).status_code == 200
    again = _confirm(api, token, "yet another passphrase")
    assert again.status_code == 422 and "token" in again.get_json()["errors"]
    with transaction(api.ctx.sessions) as session:
        stored = session.scalars(select(SigninLink.digest)).all()
    assert token not in stored and len(stored) == 1


def test_asking_for_an_unknown_person_answers_the_same_and_mails_nothing(api: Api, smtp_server: SmtpTestServer) -> None:
    unknown = api.client.post("/api/v1/auth/password-reset", json={"login": "nobody@example.com"})
    known = api.client.post("/api/v1/auth/password-reset", json={"login": "rmc"})
    assert unknown.status_code == known.status_code == 202
    assert unknown.get_data() == known.get_data()
    drain(api.ctx)
    [mail] = smtp_server.wait_for_count(1)
    assert mail.recipients == ("rmc@orchestrator.example",)


def test_an_expired_link_is_refused(api: Api, smtp_server: SmtpTestServer) -> None:
    _ask(api, "duty")
    token, _ = _link_token(smtp_server)
    with time_machine.travel(utcnow() + timedelta(hours=api.ctx.config.reset_link_hours, minutes=1)):
        response = _confirm(api, token)
    assert response.status_code == 422


def test_the_password_policy_refuses_short_passwords_and_the_username(api: Api, smtp_server: SmtpTestServer) -> None:
    _ask(api, "consultant")
    token, _ = _link_token(smtp_server)
    short = _confirm(api, token, "short")
    assert short.status_code == 422 and "10 characters" in short.get_json()["errors"]["password"][0]
    named = _confirm(api, token, "Consultant")  # ten characters, but the username
    assert named.status_code == 422 and "username" in named.get_json()["errors"]["password"][0]
    assert _confirm(api, token).status_code == 204  # refusals did not use the link up


def test_an_invitation_lets_a_client_user_set_a_first_password(api: Api, smtp_server: SmtpTestServer) -> None:
    with transaction(api.ctx.sessions) as session:
        session.execute(update(User).where(User.username == "nordbank").values(language="en"))
    response = api.post("/auth/invitations", as_="admin", json={"username": "nordbank"})
    assert response.status_code == 202, response.get_json()
    drain(api.ctx)
    token, subject = _link_token(smtp_server)
    assert subject == "Invitation to the service desk"
    assert _confirm(api, token).status_code == 204
    assert sign_in(api.client, "nordbank", NEW).status_code == 200
    assert api.post("/auth/invitations", as_="admin", json={"username": "nordbank"}).status_code == 409


def test_an_invitation_link_lasts_longer_than_a_reset_link(api: Api, smtp_server: SmtpTestServer) -> None:
    api.post("/auth/invitations", as_="admin", json={"username": "megaretail"})
    drain(api.ctx)
    token, _ = _link_token(smtp_server)
    days = api.ctx.config.invitation_link_days
    with time_machine.travel(utcnow() + timedelta(days=days - 1)):
        assert _confirm(api, token).status_code == 204


def test_only_an_administrator_invites_and_only_those_without_a_password(api: Api) -> None:
    assert api.post("/auth/invitations", as_="manager", json={"username": "megaretail"}).status_code == 403
    set_password(api.ctx, "megaretail", PASSWORD)
    assert api.post("/auth/invitations", as_="admin", json={"username": "megaretail"}).status_code == 409
    assert api.post("/auth/invitations", as_="admin", json={"username": "nobody"}).status_code == 404


class _DownMailer:
    def send(self, mail: OutgoingMail) -> None:
        raise MailError("relay down", message_id=mail.message_id, transient=True)


def test_a_link_the_mailer_could_not_send_is_retried_later(
    api: Api, smtp_server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailer = api.ctx.mailer
    monkeypatch.setattr(api.ctx, "config", dataclasses.replace(api.ctx.config, job_backoff_seconds=60.0))
    monkeypatch.setattr(api.ctx, "mailer", _DownMailer())
    _ask(api, "duty")
    with transaction(api.ctx.sessions) as session:
        link = session.scalars(select(SigninLink)).one()
        assert link.digest is None and link.mailed_at is None and link.attempts == 1 and link.last_error
    monkeypatch.setattr(api.ctx, "mailer", mailer)
    assert drain(api.ctx) == 0  # not before its backoff
    with time_machine.travel(utcnow() + timedelta(seconds=61)):
        drain(api.ctx)
        token, _ = _link_token(smtp_server)
        assert _confirm(api, token).status_code == 204


def test_asking_again_at_once_sends_no_second_mail(api: Api, smtp_server: SmtpTestServer) -> None:
    _ask(api, "duty")
    _ask(api, "duty@orchestrator.example")
    assert len(smtp_server.wait_for_count(1)) == 1
