"""Signing in from tests: give a demo user a password, sign in through the API, read the cookies."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from service.auth.models import User
from service.auth.passwords import hash_password
from service.context import Context
from service.db import transaction

PASSWORD = "correct horse battery"


def set_password(ctx: Context, username: str, password: str = PASSWORD) -> None:
    """Give a user a password, straight in the database."""
    with transaction(ctx.sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        user.password_hash = hash_password(password)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD, *, address: str = "10.0.0.1", **more: Any):  # type: ignore[no-untyped-def]
    """POST /auth/login from an address."""
    return client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password, **more},
        environ_base={"REMOTE_ADDR": address},
    )


#: The CSRF value a page's form carries.
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: str) -> str:
    """The CSRF value of a page's form."""
    found = CSRF_FIELD.search(page)
    assert found, page
    return found.group(1)


def sign_in_page(
    client: FlaskClient, ctx: Context, username: str, *, language: str | None = None, next_: str = "/"
) -> None:
    """Sign in through the page `/login` (a password given first), in the user's `language` when one is set."""
    set_password(ctx, username)
    if language is not None:
        with transaction(ctx.sessions) as session:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None
            user.language = language
    form = client.get(f"/login?next={next_}")
    answer = client.post(
        "/login", data={"username": username, "password": PASSWORD, "next": next_, "csrf": csrf_of(form.text)}
    )
    assert answer.status_code == 303, answer.text
